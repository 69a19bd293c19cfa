"""How a job ended is reported truthfully: a ``docker kill`` of its container (exit code 137,
memory plentiful) is a kill from outside, not OutOfMemory; a job that really exceeds the
memory limit of its compute target's vm_size is OutOfMemory (the engine's OOMKilled)."""

import pytest

from job_helpers import compute, containers_of, finish, submit, wait_status
from support import wait_until

pytestmark = pytest.mark.docker

HOG = '''
print("allocating", flush=True)
block = bytearray(1536 << 20)
for index in range(0, len(block), 4096):
    block[index] = 1
print("survived", len(block))
'''


def test_docker_kill_is_reported_as_a_kill_from_outside_not_out_of_memory(docker_ws, project, docker_engine):
    target = compute(docker_ws, "roomy", vm_size="STANDARD_D2_V2")
    run = submit(docker_ws, project, "import time\nprint('up', flush=True)\ntime.sleep(60)\n", compute_target=target)
    wait_status(run, "Running")
    container = wait_until(lambda: containers_of(docker_engine, run.id), 10, "the run's container")[0]

    docker_engine.api.kill(container["Id"])

    details = finish(run)
    assert details["status"] == "Failed"
    assert details["error"]["code"] != "OutOfMemory"
    assert "The job ran out of memory" not in details["error"]["message"]
    assert "SIGKILL from outside the run" in details["error"]["message"]


def test_a_job_over_its_vm_size_memory_is_out_of_memory(docker_ws, project):
    target = compute(docker_ws, "tiny", vm_size="STANDARD_B1LS")  # 0.5 GiB
    run = submit(docker_ws, project, HOG, compute_target=target)

    details = finish(run)

    assert details["status"] == "Failed"
    assert details["error"]["code"] == "OutOfMemory"
    assert "STANDARD_B1LS" in details["error"]["message"]
    assert "survived" not in details["error"].get("log_tail", "")
