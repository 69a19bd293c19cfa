"""``run.cancel()`` at any moment ends the run Canceled: right after submit (before anything
follows it, or while its supervisor starts), and during an image build, which it stops (the
build container goes away within seconds) instead of waiting for it.
"""

import os

import docker
import pytest

from amlocal.core import Environment

from job_helpers import finish, home_containers, submit
from support import wait_until

pytestmark = pytest.mark.docker

LONG_JOB = "import time\nprint('started', flush=True)\ntime.sleep(60)\n"


def test_cancel_right_after_submit_always_ends_canceled(docker_ws, project):
    runs = []
    for index in range(6):
        run = submit(docker_ws, project, LONG_JOB)
        run.cancel()  # within a millisecond or so of submit returning
        runs.append(run)
    for moment in ("Preparing", "Starting", "Running"):  # and as soon as it is seen in each phase
        run = submit(docker_ws, project, LONG_JOB)
        wait_until(lambda: run.get_status() in (moment, "Running"), 60, f"{run.id} to reach {moment}")
        run.cancel()
        runs.append(run)

    ended = {run.id: finish(run, 60) for run in runs}

    assert {details["status"] for details in ended.values()} == {"Canceled"}, {
        run_id: (details["status"], details.get("error")) for run_id, details in ended.items()}
    assert not [c for c in home_containers(docker.from_env(), docker_ws) if c["Labels"].get("amlocal.run_id") in ended]


def test_cancel_during_an_image_build_stops_the_build(docker_ws, project, docker_engine):
    environment = Environment("slow-build")
    # a requirement no earlier build had, so this run's image is built now
    for package in ("scikit-learn==1.7.2", f"threadpoolctl!=0.0.{int.from_bytes(os.urandom(3), 'big')}"):
        environment.python.conda_dependencies.add_pip_package(package)
    run = submit(docker_ws, project, "print('never runs')\n", environment=environment)

    def build_container():
        return [c for c in home_containers(docker_engine, docker_ws)
                if "amlocal.build" in c["Labels"] and c["State"] == "running"]

    building = wait_until(build_container, 120, "the image build container to run")
    run.cancel()

    wait_until(lambda: not [c for c in home_containers(docker_engine, docker_ws) if c["Id"] == building[0]["Id"]], 10,
               "the build container to go away")
    details = finish(run, 30)
    assert details["status"] == "Canceled", details.get("error")
    assert "never runs" not in run.get_details_with_logs()["logFiles"].get("azureml-logs/70_driver_log.txt", "")
