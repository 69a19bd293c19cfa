"""How a HyperDrive sweep runs, over any ExecutionBackend and RunHistory.

``SweepController`` is what the Azure ML service does for a HyperDrive parent run, step by
step: it samples parameter sets (``amlocal.train.hyperdrive`` samplers), starts children
(ordinary runs whose parent is the sweep, ids ``<parent>_<n>``) while fewer than
``max_concurrent_runs`` are active and fewer than ``max_total_runs`` exist, evaluates the
early-termination policy on the children's live primary metric and cancels the children it
condemns (with the reason in their error), keeps the best child so far in the parent's
``best_child_by_primary_metric`` table, and ends the parent when the sweep is done: Completed,
unless every child failed.

It keeps no state of its own: what was planned is in the parent's tags (Azure's
``_aml_system_<parent>_<n>`` = the child's parameters as JSON, written before the child is
submitted), what happened is in run history. So a controller that dies is replaced by
another that carries on exactly where it stopped, with the same samples (seeded).
"""

import json
import time

from .rules import statuses
from .specs import replace
from .train.hyperdrive._suggest import suggest
from .train.hyperdrive.policy import evaluate
from .train.hyperdrive.runconfig import HyperDriveConfig

PLANNED_TAG = "_aml_system_"
BEST_CHILD_TABLE = "best_child_by_primary_metric"
LOG_NAME = "azureml-logs/hyperdrive.txt"


def planned_tag(parent_id, index):
    return f"{PLANNED_TAG}{parent_id}_{index}"


def sweep_tags(sweep):
    """The parent's tags that describe the sweep, as the service sets them."""
    config = sweep.config
    return {
        "_aml_system_generator_config": json.dumps(config["sampling"]),
        "_aml_system_primary_metric_config": json.dumps(config["primary_metric"]),
        "_aml_system_policy_config": json.dumps(config["policy"]),
        "_aml_system_max_total_jobs": str(config["max_total_runs"]),
        "_aml_system_max_concurrent_jobs": str(config["max_concurrent_runs"]),
        "_aml_system_max_duration_minutes": str(config["max_duration_minutes"]),
    }


class SweepController:
    """``backend`` runs the children; ``history`` records them; ``log(line)`` writes the
    sweep's log; ``set_status(status, error=None)`` moves the parent; ``cancel_requested()``
    says whether the user canceled the sweep."""

    def __init__(self, parent_id, sweep, backend, history, log, set_status, cancel_requested, started=None):
        self.parent_id = parent_id
        self.sweep = sweep
        self.config = HyperDriveConfig.from_dict(sweep.config)
        self.metric = self.config.primary_metric_name
        self.goal = self.config.primary_metric_goal
        self.backend = backend
        self.history = history
        self.log = log
        self.set_status = set_status
        self.cancel_requested = cancel_requested
        self.started = time.time() if started is None else started
        self._best = None
        self._reported = None

    # -- what run history says ----------------------------------------------------------------
    def planned(self):
        """{index: parameters} of every child planned so far."""
        found = {}
        prefix = planned_tag(self.parent_id, "")
        for key, value in self.history.get_tags(self.parent_id).items():
            if key.startswith(prefix) and key[len(prefix):].isdigit():
                found[int(key[len(prefix):])] = json.loads(value)
        return dict(sorted(found.items()))

    def children(self):
        """{run id: record} of the children that exist, with the status their backend reports
        now (asking it also lets it notice a child whose follower died, and a service move on)."""
        found = {r["run_id"]: r for r in self.history.list_runs(parent_run_id=self.parent_id)}
        for run_id, record in found.items():
            if record["status"] not in statuses.TERMINAL:
                record["status"] = self.backend.get_status(run_id)
        return found

    def series(self, run_id):
        """The child's primary metric reports in the order logged."""
        value = self.history.get_metrics(run_id, self.metric).get(self.metric)
        if value is None:
            return []
        values = value if isinstance(value, list) else [value]
        return [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]

    def best_of(self, values):
        if not values:
            return None
        return max(values) if self.goal.name == "MAXIMIZE" else min(values)

    # -- one step --------------------------------------------------------------------------------
    def step(self):
        """Do what is due now. Returns True once the sweep has ended."""
        planned, children = self.planned(), self.children()
        ids = {index: f"{self.parent_id}_{index}" for index in planned}
        series = {run_id: self.series(run_id) for run_id in children}
        active = [run_id for run_id, r in children.items() if r["status"] not in statuses.TERMINAL]
        if self.cancel_requested():
            return self._cancel_all(active, "Canceled by the user.", statuses.CANCELED)
        limit = self.config.max_duration_minutes
        if limit and time.time() - self.started > limit * 60:
            return self._cancel_all(active, f"The sweep reached max_duration_minutes ({limit}).", statuses.CANCELED)
        self._enforce(series, active)
        self._track_best(children, series, final=False)
        # children planned but never submitted (a controller died in between) go first
        for index, parameters in planned.items():
            if ids[index] not in children:
                self._submit(index, parameters)
                active.append(ids[index])
        exhausted = False
        room = min(self.config.max_concurrent_runs - len(active), self.config.max_total_runs - len(planned))
        if room > 0:
            suggestion = suggest(self.config.hyperparameter_sampling, self._trials(planned, children, series),
                                 count=room, seed=self.sweep.seed, goal=self.goal)
            if suggestion.parameters:
                self.log(f"[GENERATOR][INFO]Trying to sample '{room}' jobs from the hyperparameter space")
            start = max(planned, default=-1) + 1
            for offset, parameters in enumerate(suggestion.parameters):
                self._submit(start + offset, parameters)
                active.append(f"{self.parent_id}_{start + offset}")
            exhausted = suggestion.exhausted and not suggestion.parameters
            if suggestion.exhausted and suggestion.parameters:
                self.log("[GENERATOR][INFO]The hyperparameter space is exhausted; no more jobs will be sampled")
        self._report(children, active)
        done = not active and (len(self.planned()) >= self.config.max_total_runs or exhausted)
        if done:
            self._finish(self.children())
        return done

    def _trials(self, planned, children, series):
        trials = []
        for index, parameters in planned.items():
            record = children.get(f"{self.parent_id}_{index}")
            status = record["status"] if record else statuses.QUEUED
            trials.append((parameters, self.best_of(series.get(f"{self.parent_id}_{index}")), status))
        return trials

    def _submit(self, index, parameters):
        run_id = f"{self.parent_id}_{index}"
        self.history.set_tags(self.parent_id, {planned_tag(self.parent_id, index): json.dumps(parameters)})
        trial = self.sweep.trial
        child = replace(trial, run_id=run_id, parent_run_id=self.parent_id,
                        arguments=tuple(self.config.child_arguments(parameters, base_arguments=list(trial.arguments))),
                        tags={**trial.tags, "hyperparameters": json.dumps(parameters)})
        self.backend.submit(child)
        self.log(f"[SCHEDULER][INFO]Scheduling job, id='{run_id}' with parameters {json.dumps(parameters)}")

    def _enforce(self, series, active):
        decisions = evaluate(self.config.policy, series, self.goal, running=active, metric_name=self.metric)
        for decision in decisions:
            self.backend.cancel(decision.run_id, reason=decision.reason)
            self.log(f"[ENFORCER][INFO]Job '{decision.run_id}' early terminated at interval {decision.interval}: "
                     f"{decision.reason}")

    def _track_best(self, children, series, final):
        scored = [(run_id, self.best_of(series[run_id])) for run_id in sorted(series, key=child_order)]
        scored = [(run_id, value) for run_id, value in scored if value is not None]
        pick = max if self.goal.name == "MAXIMIZE" else min
        best = pick(scored, key=lambda item: item[1]) if scored else None
        if best is not None and (best != self._best or final):
            self._best = best
            self.history.log_metric(self.parent_id, BEST_CHILD_TABLE, {"run_id": best[0], "metric_value": best[1],
                                                                     "final": final}, kind="row")

    def _report(self, children, active):
        done = sum(1 for r in children.values() if r["status"] in statuses.TERMINAL)
        queued = sum(1 for r in children.values() if r["status"] in (statuses.NOT_STARTED, statuses.QUEUED))
        running = len(active) - queued
        best = f"; best {self.metric} so far: {self._best[1]} ({self._best[0]})" if self._best else ""
        report = (done, running, queued, self._best)
        if report != self._reported:
            self._reported = report
            self.log(f"[STATUS][INFO]children: {done} done, {max(running, 0)} running, {queued} queued, "
                     f"{self.config.max_total_runs} at most{best}")

    def _cancel_all(self, active, message, status):
        for run_id in active:
            self.backend.cancel(run_id)
        if any(r["status"] not in statuses.TERMINAL for r in self.children().values()):
            return False  # wait for the children to end before the parent does
        self.log(f"[CONTROLLER][INFO]{message}")
        self._track_best(self.children(), {r: self.series(r) for r in self.children()}, final=True)
        self.set_status(status, statuses.run_error(message, "Canceled"))
        return True

    def _finish(self, children):
        self._track_best(children, {run_id: self.series(run_id) for run_id in children}, final=True)
        ended = [r["status"] for r in children.values()]
        if ended and all(status == statuses.FAILED for status in ended):
            message = f"Every child of the sweep failed ({len(ended)}); see their errors."
            self.log(f"[CONTROLLER][ERROR]{message}")
            self.set_status(statuses.FAILED, statuses.run_error(message, "AllChildrenFailed"))
        else:
            self.log(f"[CONTROLLER][INFO]The sweep ended: {len(ended)} children")
            self.set_status(statuses.COMPLETED)

    def run(self, poll_seconds=0.25, watch_seconds=0.05):
        """Step every ``poll_seconds``, and as soon as a child ends (looked for every
        ``watch_seconds``, one read of run history): a freed place is filled without waiting
        for the next whole step."""
        while not self.step():
            ended = self._ended_children()
            deadline = time.monotonic() + poll_seconds
            while time.monotonic() < deadline:
                time.sleep(watch_seconds)
                if self._ended_children() != ended:
                    break

    def _ended_children(self):
        return sum(1 for r in self.history.list_runs(parent_run_id=self.parent_id) if r["status"] in statuses.TERMINAL)


def child_order(run_id):
    """Sort key of a sweep's children in the order they were sampled (``<parent>_0``, ``_1``, ...,
    ``_10``): on a tie of the primary metric the earlier child is the best, here and in
    ``HyperDriveRun.get_children_sorted_by_primary_metric``."""
    tail = run_id.rsplit("_", 1)[-1]
    return (0, int(tail), run_id) if tail.isdigit() else (1, 0, run_id)
