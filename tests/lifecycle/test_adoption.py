"""A run whose supervisor is killed (``kill -9``) is adopted by whoever looks next: its job is
followed to its end, its outputs collected, its container removed; and its node stays taken
while the orphaned job still runs, so on a ``max_nodes=1`` target the next queued run waits.
"""

import json
import os
import signal

import pytest

from amlocal.core import Run

from job_helpers import (cli, compute, containers_of, control_log, driver_log, finish, submit, timeline,
                         wait_status)
from support import supervisor_pids, wait_until

pytestmark = pytest.mark.docker

SLEEPER = '''
import json, os, sys, time
print("started", flush=True)
deadline = time.time() + float(sys.argv[1])
tick = 0
while time.time() < deadline:
    print("tick %d" % tick, flush=True)
    tick += 1
    time.sleep(0.05)
os.makedirs("outputs", exist_ok=True)
with open("outputs/ended.json", "w") as out:
    json.dump({"ended": time.time()}, out)
print("woke up", flush=True)
'''


def kill_supervisor(run):
    pids = wait_until(lambda: supervisor_pids(run.id), 30, f"the supervisor of {run.id}")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not supervisor_pids(run.id), 10, "the supervisor to die")


def ended_at(ws, run):
    return json.loads((ws.stores.layout.run_files(run.id) / "outputs" / "ended.json").read_text())["ended"]


def test_an_orphaned_job_keeps_its_node_and_is_adopted_before_the_next_run_starts(docker_ws, project, docker_engine):
    target = compute(docker_ws, "single", max_nodes=1)
    first = submit(docker_ws, project, SLEEPER, arguments=["4"], compute_target=target)
    wait_status(first, "Running")
    kill_supervisor(first)

    # submitted while the orphan's node looks free (its lock died with the supervisor)
    second = submit(docker_ws, project, SLEEPER, arguments=["0"], compute_target=target, name="second.py")
    third = submit(docker_ws, project, SLEEPER, arguments=["0"], compute_target=target, name="third.py")

    assert finish(first)["status"] == "Completed"
    assert finish(second)["status"] == "Completed" and finish(third)["status"] == "Completed"
    assert "outputs/ended.json" in first.get_file_names()
    assert "adopts the run" in control_log(docker_ws, first.id)
    assert "woke up" in first.get_details_with_logs()["logFiles"]["azureml-logs/70_driver_log.txt"]
    # the queued run started only once the orphaned job had ended
    assert timeline(docker_ws, second.id)["Preparing"] >= ended_at(docker_ws, first)
    assert timeline(docker_ws, third.id)["Preparing"] >= ended_at(docker_ws, second)
    wait_until(lambda: containers_of(docker_engine, first.id) == [], 10, "the orphan's container to be removed")


def test_the_cli_reading_an_orphaned_run_gets_it_adopted(docker_ws, project, docker_engine):
    run = submit(docker_ws, project, SLEEPER, arguments=["2"])
    wait_status(run, "Running")
    kill_supervisor(run)

    followed = cli(project, "run", "logs", run.id, "--follow", timeout=120)

    assert followed.returncode == 0, followed.stderr
    assert "woke up" in followed.stdout
    # every line once, in order, across the two processes that copied the job's output
    ticks = [int(line.split()[1]) for line in driver_log(docker_ws, run.id).splitlines() if line.startswith("tick ")]
    assert ticks == list(range(len(ticks))) and len(ticks) > 10
    assert Run.get(docker_ws, run.id).get_status() == "Completed"
    assert "outputs/ended.json" in run.get_file_names()
    wait_until(lambda: containers_of(docker_engine, run.id) == [], 10, "the orphan's container to be removed")


def test_two_homes_with_the_same_workspace_name_never_touch_each_other_s_containers(project, base_image, tmp_path,
                                                                                     monkeypatch, docker_engine):
    from amlocal.core import Workspace

    home_a = Workspace.from_config(backend="docker")
    home_a.run_history.list_runs()
    monkeypatch.setenv("AMLOCAL_HOME", str(tmp_path / "other-home"))
    home_b = Workspace.from_config(backend="docker")
    home_b.run_history.list_runs()
    assert home_a.name == home_b.name and home_a.backend.home_id != home_b.backend.home_id
    run_b = submit(home_b, project, SLEEPER, arguments=["3"], experiment="b")
    monkeypatch.setenv("AMLOCAL_HOME", str(tmp_path / "home"))
    run_a = submit(home_a, project, SLEEPER, arguments=["30"], experiment="a")
    wait_status(run_a, "Running")
    wait_status(run_b, "Running")

    listed_a = {c["Id"] for c in home_a.backend.containers()}
    listed_b = {c["Id"] for c in home_b.backend.containers()}
    assert {c["Id"] for c in containers_of(docker_engine, run_a.id)} == listed_a
    assert {c["Id"] for c in containers_of(docker_engine, run_b.id)} == listed_b
    # cleaning home A (its supervisor gone, every container it lists removed) leaves B's run alone
    kill_supervisor(run_a)
    for container_id in listed_a:
        docker_engine.api.remove_container(container_id, force=True)

    assert finish(run_a)["status"] == "Failed"
    details_b = finish(run_b)
    assert details_b["status"] == "Completed", details_b.get("error")
    assert "outputs/ended.json" in run_b.get_file_names()
    labels = {c["Labels"]["amlocal.home"] for c in home_a.backend.containers() + home_b.backend.containers()}
    assert labels <= {home_a.backend.home_id, home_b.backend.home_id}
