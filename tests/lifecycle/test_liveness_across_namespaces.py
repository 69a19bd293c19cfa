"""A reader in another PID namespace (a devcontainer, a second checkout sharing the home) sees
none of the run's processes. Reading a healthy Running run from there must not turn it
Failed, and the run's own Completed must still be recorded.

Liveness is the supervisor's lock on ``supervisor.lock`` (flock), which is true from any PID
namespace of the host; a pid means nothing across namespaces.
"""

import os
import shutil
import subprocess
import sys

import pytest

from job_helpers import finish, submit, wait_status

pytestmark = pytest.mark.docker

READER = '''
import time
from amlocal.core import Run, Workspace
ws = Workspace.from_config(backend="docker")
seen = []
deadline = time.monotonic() + 2.0
while time.monotonic() < deadline:
    run = Run.get(ws, RUN_ID)
    seen.append(run.get_status())
    run.get_details()
    time.sleep(0.05)
print(" ".join(sorted(set(seen))))
'''


def test_a_reader_in_another_pid_namespace_does_not_fail_a_healthy_run(docker_ws, project):
    if os.getuid() != 0:
        pytest.skip("needs root to make a PID namespace (unshare --pid --fork --mount-proc)")
    if shutil.which("unshare") is None:
        pytest.skip("no unshare command (util-linux) on this machine")
    run = submit(docker_ws, project, "import time\nprint('working', flush=True)\ntime.sleep(4)\nprint('done')\n")
    wait_status(run, "Running")

    reader = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", READER.replace("RUN_ID", repr(run.id))],
        cwd=str(project), capture_output=True, text=True, timeout=60)

    assert reader.returncode == 0, reader.stderr
    assert reader.stdout.split() == ["Running"], reader.stdout
    assert run.get_status() == "Running"
    listed = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-m", "amlocal.cli",
                             "--backend", "docker", "run", "list"], cwd=str(project), capture_output=True, text=True,
                            timeout=60)
    assert listed.returncode == 0 and "Running" in listed.stdout, listed.stdout + listed.stderr
    details = finish(run)
    assert details["status"] == "Completed" and "error" not in details
    assert [status for status, _ in docker_ws.run_history.status_timeline(run.id)][-1] == "Completed"
