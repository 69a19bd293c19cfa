"""A node freed goes straight to the run queued for it: the process whose run freed it follows
the oldest queued run of the compute target next (no new process, no dispatcher poll), and
that run is as safe as any other: killed, its process is replaced and the run still ends."""

import os
import signal

from job_helpers import compute, finish, submit, wait_status
from support import open_gate, supervisor_pids, wait_until

WAITS_AT_ITS_GATE = '''
import sys
with open(sys.argv[1]) as gate:  # a FIFO the test opens when this job may end
    gate.read()
print("through the gate", flush=True)
'''


def gate(tmp_path, name):
    path = tmp_path / name
    os.mkfifo(path)
    return str(path)


def test_the_process_whose_run_frees_the_node_follows_the_queued_run(process_ws, project, tmp_path):
    target = compute(process_ws, "one-node", max_nodes=1)
    first_gate, second_gate, third_gate = (gate(tmp_path, f"gate-{i}") for i in range(3))
    first = submit(process_ws, project, WAITS_AT_ITS_GATE, arguments=[first_gate], compute_target=target)
    wait_status(first, "Running")
    second = submit(process_ws, project, WAITS_AT_ITS_GATE, arguments=[second_gate], compute_target=target,
                    name="second.py")
    third = submit(process_ws, project, WAITS_AT_ITS_GATE, arguments=[third_gate], compute_target=target,
                   name="third.py")
    wait_status(second, "Queued")
    wait_status(third, "Queued")
    [follower] = wait_until(lambda: supervisor_pids(first.id), 30, "the first run's supervisor")

    open_gate(first_gate)
    wait_status(second, "Running")
    assert supervisor_pids(second.id) == [follower]
    assert third.get_status() == "Queued"  # still one node: submission order is kept
    open_gate(second_gate)
    wait_status(third, "Running")
    assert supervisor_pids(third.id) == [follower]
    open_gate(third_gate)

    for run in (first, second, third):
        details = finish(run)
        assert details["status"] == "Completed", details.get("error")
        assert "through the gate" in run.get_details_with_logs()["logFiles"]["azureml-logs/70_driver_log.txt"]


def test_a_queued_run_taken_over_by_another_run_s_process_survives_its_death(process_ws, project, tmp_path):
    target = compute(process_ws, "one-node", max_nodes=1)
    first_gate, second_gate = gate(tmp_path, "gate-1"), gate(tmp_path, "gate-2")
    first = submit(process_ws, project, WAITS_AT_ITS_GATE, arguments=[first_gate], compute_target=target)
    wait_status(first, "Running")
    second = submit(process_ws, project, WAITS_AT_ITS_GATE, arguments=[second_gate], compute_target=target,
                    name="second.py")
    wait_status(second, "Queued")
    open_gate(first_gate)
    wait_status(second, "Running")

    for pid in wait_until(lambda: supervisor_pids(second.id), 30, "the second run's supervisor"):
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: supervisor_pids(second.id), 30, "a new supervisor adopting the second run")
    open_gate(second_gate)

    assert finish(first)["status"] == "Completed"
    details = finish(second)
    assert details["status"] == "Completed", details.get("error")
    assert "through the gate" in second.get_details_with_logs()["logFiles"]["azureml-logs/70_driver_log.txt"]
