"""30 runs submitted at once (by three processes) on a ``max_nodes=2`` compute target all
finish; their status timelines never show more than two on a node at once, and none is
left waiting."""

import pytest

from job_helpers import TERMINAL, compute, intervals, job_config, most_at_once, python
from support import wait_until

pytestmark = pytest.mark.docker

SUBMITTER = '''
from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace
ws = Workspace.from_config(backend="docker")
config = ScriptRunConfig(source_directory="load", script="job.py", environment=Environment("stdlib"),
                         compute_target="pair")
for _ in range(10):
    print(Experiment(ws, "load").submit(config).id, flush=True)
'''


def test_thirty_runs_on_two_nodes_all_finish_two_at_a_time(docker_ws, project):
    compute(docker_ws, "pair", max_nodes=2)
    job_config(project, "job.py", "print('done', flush=True)\n", folder="load")
    submitters = [python(project, SUBMITTER) for _ in range(3)]
    run_ids = []
    for submitter in submitters:
        out, err = submitter.communicate(timeout=120)
        assert submitter.returncode == 0, err
        run_ids += out.split()
    assert len(set(run_ids)) == 30

    def ended():
        records = {r["run_id"]: r["status"] for r in docker_ws.run_history.list_runs()}
        # the database only: no reader here helps a run that nobody follows along
        return all(records.get(run_id) in TERMINAL for run_id in run_ids)

    wait_until(ended, 300, "all 30 runs to end")
    statuses = {r["run_id"]: r["status"] for r in docker_ws.run_history.list_runs()}
    assert {statuses[run_id] for run_id in run_ids} == {"Completed"}, statuses
    spans = intervals(docker_ws, run_ids, start="Preparing", end=TERMINAL)
    assert most_at_once(spans) == 2
