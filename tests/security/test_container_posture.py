"""Threat: the training script is untrusted code running in a container on the user's engine.

Inside the job: not root (the invoking user's uid/gid, or ``nobody`` when amlocal itself
runs as root, so that a job never owns the host's files), no effective capability, no way to
gain privileges (NoNewPrivs), a pids limit and a memory limit even without a compute
target; the Docker socket and the host home are not there.

Turning the network off. Outbound network stays open by default, as on AmlCompute. A run
turns it off the azureml way, with the docker arguments of its DockerConfiguration (the
only docker argument a local run applies)::

    from amlocal.core.runconfig import DockerConfiguration
    ScriptRunConfig(..., docker_runtime_config=DockerConfiguration(use_docker=True,
                                                                   arguments=["--network", "none"]))

and config.json turns it off for a compute target's runs, or every run of the workspace::

    "network": {"cpu-cluster": false}        "network": false

Either way the job sees no network interface but ``lo``. The process backend cannot enforce
it and refuses such a run.
"""

import json
import os
from pathlib import Path

import pytest

from amlocal.core import Experiment, Workspace
from amlocal.core.runconfig import DockerConfiguration
from amlocal.exceptions import InvalidArgumentError

from job_helpers import compute, finish, job_config, job_json

pytestmark = pytest.mark.docker

POSTURE = r'''
import json, os, sys

def read(*paths):
    for path in paths:
        try:
            with open(path) as handle:
                return handle.read().strip()
        except OSError:
            pass
    return None

status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
print("RESULT " + json.dumps({
    "uid": os.getuid(), "gid": os.getgid(), "euid": os.geteuid(), "groups": os.getgroups(),
    "cap_eff": status["CapEff"].strip(), "cap_prm": status["CapPrm"].strip(),
    "no_new_privs": status["NoNewPrivs"].strip(),
    "pids_max": read("/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max"),
    "memory_max": read("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"),
    "docker_socket": [p for p in ("/var/run/docker.sock", "/run/docker.sock") if os.path.exists(p)],
    "host_home_marker": os.path.exists(sys.argv[1]),
    "mounted_from_host_home": [line.split()[3] for line in open("/proc/self/mountinfo")
                               if line.split()[3] == sys.argv[2] or line.split()[3].startswith(sys.argv[2].rstrip("/") + "/.ssh")],
    "interfaces": sorted(os.listdir("/sys/class/net")),
}), flush=True)
'''


@pytest.fixture
def home_marker():
    """A file in the real host home directory, removed after the test."""
    path = Path.home() / f".amlocal-posture-{os.urandom(6).hex()}"
    path.write_text("host home")
    yield path
    path.unlink()


def posture_of(ws, project, home_marker, experiment="posture", **options):
    config = job_config(project, "posture.py", POSTURE, arguments=[str(home_marker), str(Path.home())], **options)
    run = Experiment(ws, experiment).submit(config)
    details = finish(run)
    assert details["status"] == "Completed", details.get("error")
    return job_json(ws, run.id)


def test_a_job_runs_unprivileged_limited_and_blind_to_the_host(docker_ws, project, home_marker):
    seen = posture_of(docker_ws, project, home_marker)

    expected_user = (65534, 65534) if os.getuid() == 0 else (os.getuid(), os.getgid())
    assert (seen["uid"], seen["gid"]) == expected_user and seen["euid"] != 0
    assert 0 not in seen["groups"]
    assert int(seen["cap_eff"], 16) == 0 and int(seen["cap_prm"], 16) == 0
    assert seen["no_new_privs"] == "1"
    assert seen["pids_max"] not in (None, "max") and int(seen["pids_max"]) <= 4096
    memory = int(seen["memory_max"])
    assert 0 < memory <= min(8 << 30, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    assert seen["docker_socket"] == []
    assert seen["host_home_marker"] is False and seen["mounted_from_host_home"] == []
    assert "lo" in seen["interfaces"] and len(seen["interfaces"]) > 1  # the network is open by default


def test_a_vm_size_sets_the_memory_limit_the_job_sees(docker_ws, project, home_marker):
    target = compute(docker_ws, "small", vm_size="STANDARD_B1LS")
    seen = posture_of(docker_ws, project, home_marker, compute_target=target)
    assert int(seen["memory_max"]) == 512 << 20


def test_docker_configuration_network_none_leaves_only_loopback(docker_ws, project, home_marker, capfd):
    for arguments in (["--network", "none"], ["--network=none", "--ipc=host"]):
        docker = DockerConfiguration(use_docker=True, arguments=arguments)
        seen = posture_of(docker_ws, project, home_marker, docker_runtime_config=docker)
        assert seen["interfaces"] == ["lo"], arguments
    assert "--ipc=host are not applied to local runs" in capfd.readouterr().err


def test_config_json_cuts_the_network_of_one_compute_target(project, base_image, home_marker):
    config = json.loads((project / "config.json").read_text())
    (project / "config.json").write_text(json.dumps({**config, "network": {"offline": False}}))
    ws = Workspace.from_config(backend="docker")
    offline, online = compute(ws, "offline"), compute(ws, "online")

    assert posture_of(ws, project, home_marker, compute_target=offline)["interfaces"] == ["lo"]
    assert len(posture_of(ws, project, home_marker, compute_target=online)["interfaces"]) > 1


def test_the_process_backend_refuses_a_run_without_network(process_ws, project):
    config = job_config(project, "job.py", "print(1)\n",
                        docker_runtime_config=DockerConfiguration(arguments=["--network", "none"]))
    with pytest.raises(InvalidArgumentError, match="cannot enforce"):
        Experiment(process_ws, "offline").submit(config)
    assert process_ws.run_history.list_runs() == []
