"""Submission is atomic from the user's point of view: either the run exists and something
follows it to a final status, or it does not exist at all.

The submitting process may die anywhere (SIGKILL during a large snapshot, or right after the
run was recorded); source trees with dangling links and loops, and the longest experiment
names, submit and finish; ``amlocal run logs --follow`` of any recorded run returns.
"""

import os
import signal

import pytest

from amlocal.core import Run

from job_helpers import cli, finish, job_config, python, submit

pytestmark = pytest.mark.docker

SUBMIT = '''
import os, signal, sys
from amlocal._local import dispatch, local_backend
from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace

def pause_mid_snapshot(self, progress):
    if 0 < progress.files_done < progress.files_total:
        print("MID-SNAPSHOT", flush=True)
        signal.pause()  # the test SIGKILLs this process here

def die_after_recording(layout, run_id, compute, history):
    print("RECORDED " + run_id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

if sys.argv[1] == "snapshot":
    local_backend._ProgressPrinter.__call__ = pause_mid_snapshot
else:
    dispatch.start_run = die_after_recording
ws = Workspace.from_config(backend="docker")
Experiment(ws, "atomic").submit(ScriptRunConfig(source_directory=sys.argv[2], script="job.py",
                                                environment=Environment("stdlib")))
'''


def big_tree(project, files=200, size=128 << 10):
    config = job_config(project, "job.py", "print('the big tree ran', flush=True)\n", folder="big")
    for index in range(files):
        (project / "big" / f"part{index:04d}.bin").write_bytes(os.urandom(size))
    return config


def test_sigkill_during_a_large_snapshot_leaves_no_run(docker_ws, project):
    big_tree(project)
    submitter = python(project, SUBMIT.replace("sys.argv[1]", "'snapshot'").replace("sys.argv[2]", "'big'"))
    try:
        assert submitter.stdout.readline().strip() == "MID-SNAPSHOT", submitter.stderr.read()
    finally:
        submitter.kill()
        submitter.wait()
    assert submitter.returncode == -signal.SIGKILL

    layout = docker_ws.stores.layout
    assert docker_ws.run_history.list_runs() == []
    assert not layout.runs.exists() or list(layout.runs.iterdir()) == []
    listed = cli(project, "run", "list")
    assert listed.returncode == 0 and "No runs" in listed.stderr and listed.stdout == ""
    # the interrupted snapshot does not spoil the next one
    run = Run.get(docker_ws, submit_big(docker_ws, project).id)
    assert finish(run)["status"] == "Completed"
    assert "the big tree ran" in run.get_details_with_logs()["logFiles"]["azureml-logs/70_driver_log.txt"]


def submit_big(ws, project):
    from amlocal.core import Experiment

    return Experiment(ws, "atomic").submit(job_config(project, "job.py", "print('the big tree ran', flush=True)\n",
                                                      folder="big"))


def test_a_run_whose_submitter_died_right_after_recording_it_is_still_followed_to_its_end(docker_ws, project):
    job_config(project, "job.py", "print('ran without its submitter', flush=True)\n", folder="small")
    submitter = python(project, SUBMIT.replace("sys.argv[1]", "'recorded'").replace("sys.argv[2]", "'small'"))
    line = submitter.stdout.readline().strip()
    submitter.wait()
    assert line.startswith("RECORDED ") and submitter.returncode == -signal.SIGKILL
    run_id = line.split()[1]

    followed = cli(project, "run", "logs", run_id, "--follow", timeout=120)

    assert followed.returncode == 0, followed.stderr
    assert "ran without its submitter" in followed.stdout
    assert Run.get(docker_ws, run_id).get_status() == "Completed"


def test_dangling_links_loops_and_the_longest_experiment_name_submit_and_finish(docker_ws, project, tmp_path):
    config = job_config(project, "job.py", "print('ok', flush=True)\n", folder="odd")
    (project / "odd" / "dangling").symlink_to(tmp_path / "nowhere")
    (project / "odd" / "loop").symlink_to(".")
    (project / "odd" / "a").symlink_to("b")
    (project / "odd" / "b").symlink_to("a")
    from amlocal.core import Experiment

    runs = [Experiment(docker_ws, "links").submit(config), Experiment(docker_ws, "e" * 255).submit(config)]

    for run in runs:
        assert finish(run)["status"] == "Completed"
    assert len(runs[1].id) <= 255 and runs[1].experiment.name == "e" * 255
    for record in docker_ws.run_history.list_runs():
        followed = cli(project, "run", "logs", record["run_id"], "--follow", timeout=60)
        assert followed.returncode == 0, (record["run_id"], followed.stderr)


def test_a_refused_submit_records_nothing(docker_ws, project):
    job_config(project, "job.py", "print(1)\n", folder="refused")
    (project / "refused" / ".amlignore").write_text("[z-a]\n")
    from amlocal.exceptions import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match=r"\.amlignore .*not a gitignore pattern"):
        submit(docker_ws, project, "print(1)\n", folder="refused")
    assert docker_ws.run_history.list_runs() == []
    assert not docker_ws.stores.layout.runs.exists() or list(docker_ws.stores.layout.runs.iterdir()) == []
