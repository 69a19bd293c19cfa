"""The sweep controller fills a freed place as soon as a child ends, not at its next whole step
(on a 2-CPU machine every step saved is a child started sooner). In-memory run history and
backend: the controller's timing is what is under test, not a backend."""

import threading

from amlocal.rules import statuses
from amlocal.specs import RunSpec, SweepSpec
from amlocal.sweeps import SweepController
from amlocal.core import ScriptRunConfig
from amlocal.train.hyperdrive import GridParameterSampling, HyperDriveConfig, PrimaryMetricGoal, choice


class MemoryHistory:
    def __init__(self):
        self.runs, self.tags = {}, {}

    def list_runs(self, parent_run_id=None, **_):
        return [dict(r) for r in self.runs.values() if r["parent_run_id"] == parent_run_id]

    def get_tags(self, run_id):
        return dict(self.tags.get(run_id, {}))

    def set_tags(self, run_id, tags):
        self.tags.setdefault(run_id, {}).update(tags)

    def get_metrics(self, run_id, name):
        return {}

    def log_metric(self, *args, **kwargs):
        pass


class ChildrenThatEndWhenTold:
    """Submitted children run until the test ends them (``end_one``)."""

    def __init__(self, history):
        self.history = history
        self.submitted = threading.Semaphore(0)

    def submit(self, spec):
        self.history.runs[spec.run_id] = {"run_id": spec.run_id, "parent_run_id": spec.parent_run_id,
                                          "status": statuses.RUNNING}
        self.submitted.release()

    def get_status(self, run_id):
        return self.history.runs[run_id]["status"]

    def end_one(self):
        running = sorted(r for r, record in self.history.runs.items() if record["status"] == statuses.RUNNING)
        self.history.runs[running[0]]["status"] = statuses.COMPLETED


def test_a_child_that_ends_is_replaced_before_the_next_whole_step(tmp_path):
    (tmp_path / "train.py").write_text("")
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(source_directory=str(tmp_path), script="train.py"),
        hyperparameter_sampling=GridParameterSampling({"--c": choice(1, 2, 3)}), primary_metric_name="Accuracy",
        primary_metric_goal=PrimaryMetricGoal.MAXIMIZE, max_total_runs=3, max_concurrent_runs=1)
    sweep = SweepSpec(experiment="e", trial=RunSpec(experiment="e", source_directory=str(tmp_path), script="train.py"),
                      config=config.to_dict())
    history = MemoryHistory()
    backend = ChildrenThatEndWhenTold(history)
    ended = []
    controller = SweepController("HD_x", sweep, backend, history, log=lambda line: None,
                                 set_status=lambda status, error=None: ended.append(status),
                                 cancel_requested=lambda: False)
    # a whole step every 10 minutes: only the watch for ended children can move this sweep on in time
    worker = threading.Thread(target=controller.run, kwargs={"poll_seconds": 600, "watch_seconds": 0.01},
                              daemon=True)
    worker.start()

    for _ in range(3):
        assert backend.submitted.acquire(timeout=10), "the controller did not start the next child"
        backend.end_one()
    worker.join(timeout=10)

    assert ended == [statuses.COMPLETED]
    assert sorted(history.runs) == ["HD_x_0", "HD_x_1", "HD_x_2"]
