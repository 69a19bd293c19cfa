"""The process backend (jobs as plain processes): nothing a job starts outlives its run (a
background child, a daemon made by a double fork and setsid), and a supervisor's death does
not free the node of a job that still runs."""

import json
import os
import signal

from job_helpers import compute, finish, submit, timeline, wait_status
from support import supervisor_pids, wait_until

LEAVES_CHILDREN = '''
import os, subprocess, sys, time
marker = sys.argv[1]
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", marker])
if os.fork() == 0:              # a daemon: double fork, new session, parent gone
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)", marker])
    os._exit(0)
os.wait()
print("left children behind", flush=True)
'''

SLEEPER = '''
import json, os, sys, time
time.sleep(float(sys.argv[1]))
os.makedirs("outputs", exist_ok=True)
with open("outputs/ended.json", "w") as out:
    json.dump({"ended": time.time()}, out)
'''


def processes_with(marker):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if marker.encode() in handle.read().split(b"\0"):
                        found.append(int(entry))
            except OSError:
                continue
    return found


def test_a_daemon_and_a_background_child_end_with_the_run(process_ws, project):
    marker = f"amlocal-child-{os.urandom(6).hex()}"
    run = submit(process_ws, project, LEAVES_CHILDREN, arguments=[marker])
    try:
        details = finish(run)
        assert details["status"] == "Completed", details.get("error")
        assert "left children behind" in run.get_details_with_logs()["logFiles"]["azureml-logs/70_driver_log.txt"]
        assert processes_with(marker) == []
    finally:
        for pid in processes_with(marker):
            os.kill(pid, signal.SIGKILL)


def test_a_dead_supervisor_s_job_keeps_its_node(process_ws, project):
    target = compute(process_ws, "single", max_nodes=1)
    first = submit(process_ws, project, SLEEPER, arguments=["3"], compute_target=target)
    wait_status(first, "Running")
    second = submit(process_ws, project, SLEEPER, arguments=["0"], compute_target=target, name="second.py")

    pids = wait_until(lambda: supervisor_pids(first.id), 30, "the first run's supervisor")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)

    assert finish(first)["status"] == "Completed"
    assert finish(second)["status"] == "Completed"
    ended = json.loads((process_ws.stores.layout.run_files(first.id) / "outputs" / "ended.json").read_text())["ended"]
    assert timeline(process_ws, second.id)["Preparing"] >= ended
