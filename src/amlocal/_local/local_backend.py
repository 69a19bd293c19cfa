"""``LocalBackend``: what the docker and process backends share.

``submit`` takes the snapshot and writes the run's spec in a staging directory, moves it into
place, records the run (NotStarted, then Queued) and hands it to a detached process: its own
supervisor (``supervisor``) when a node is free, else the workspace's dispatcher
(``dispatcher``), which starts queued runs' supervisors as nodes free up. Either the run is
recorded and followed, or ``submit`` raised and nothing is recorded. The run finishes without
the submitting process.

A subclass supplies the execution steps the supervisor calls: ``prepare_environment`` (build
or reuse an image / a virtualenv), ``launch`` (start the job, return an Execution) and
``reattach`` (find a job again after its supervisor died).
"""

import abc
import json
import os
import shutil
import sys
import time
import uuid

from ..exceptions import InvalidArgumentError
from ..execution import ExecutionBackend
from ..rules import statuses
from ..rules.names import new_run_id, validate_name
from ..specs import argument_text, replace
from . import dispatch, liveness
from ..snapshot import take_snapshot
from .ids import home_id
from .layout import make_private_dir
from .network import network_allowed
from .run_warnings import read_warnings
from .stores import open_local_stores

DEFAULT_BASE_IMAGE = "python:3.11-slim"
#: spec.json's version: a supervisor refuses a spec it does not understand
SPEC_VERSION = 2


class LocalBackend(ExecutionBackend):
    poll_interval = 0.02
    #: whether this backend can run a job without network (``Job.network`` False)
    can_cut_network = True

    def __init__(self, workspace, stores, **options):
        options.pop("auth", None)  # Azure credentials mean nothing to a local backend
        if options:
            raise InvalidArgumentError(f"The {self.name} backend takes no backend_options; got {', '.join(options)}.")
        super().__init__(workspace, stores)
        self.layout = stores.layout
        self.history = stores.run_history
        self.home_id = home_id(self.layout.root)

    @classmethod
    def open_stores(cls, workspace, **options):
        return open_local_stores(workspace)

    def check_available(self):
        """Raise BackendUnavailableError, saying what to do, when jobs cannot run here."""

    def warm_up(self):
        """Called once when a supervisor starts, before Preparing: connect to whatever runs
        jobs, so that connection costs are not charged to Preparing."""

    # -- execution steps, run inside the supervisor ------------------------------------------
    @abc.abstractmethod
    def prepare_environment(self, environment, build_log, should_stop):
        """Build or reuse what ``environment`` (an EnvironmentSpec with its base image
        resolved) needs; write progress to ``build_log`` (a text file object). Returns a
        JSON-able dict for ``launch``; its optional "warnings" (a list of str) say where the
        environment differs from the one asked for (another Python...), on every run of it.
        Raises EnvironmentBuildError; stops early (raising PreparationCanceled) when
        ``should_stop()`` turns true."""

    @abc.abstractmethod
    def launch(self, prepared, job, on_created):
        """Start ``job`` in the prepared environment and return an Execution at once. Calls
        ``on_created(handle)`` with the new Execution's ``handle`` before the job starts, so
        that the job can be found again should the supervisor die."""

    @abc.abstractmethod
    def reattach(self, handle, job):
        """The Execution of a job started by another (dead) supervisor, from its ``handle``;
        None when that job no longer exists. Its output still goes to ``job.driver_log``."""

    def garbage(self, images=False, older_than=None, now=None):
        """What of this backend's own (containers, images) ``amlocal gc`` may free: a list of
        ``amlocal.local.GarbageItem``. Never anything a run that has not ended needs."""
        return []

    def job_user(self):
        """(uid, gid) a job runs as, when not as the user running amlocal (None)."""
        return None

    def resolved_environment(self, environment):
        """The EnvironmentSpec a run uses here: with the workspace's default base image."""
        return replace(environment, base_image=environment.base_image or self.workspace.base_image
                       or DEFAULT_BASE_IMAGE)

    # -- submit --------------------------------------------------------------------------------
    def submit(self, spec):
        self.check_available()
        spec = replace(spec, network=spec.network and network_allowed(self.workspace.config, spec.compute_target))
        if not spec.network and not self.can_cut_network:
            raise InvalidArgumentError(
                f"This run asks for no network (docker arguments '--network none', or \"network\" in config.json), "
                f"which the {self.name} backend cannot enforce: its jobs are plain processes. Use the docker backend, "
                "or let the run use the network.")
        compute = self.stores.compute_targets.get(spec.compute_target) if spec.compute_target else None
        for data_path in spec.data_paths:
            if not self.stores.datastores.exists(data_path.datastore, data_path.path_on_datastore):
                raise InvalidArgumentError(
                    f"Datastore path {data_path.datastore}/{data_path.path_on_datastore} does not exist. "
                    "Upload the data first (ds.upload(src_dir=..., target_path=...)).")
        environment = self.resolved_environment(spec.environment)
        run_id = self._record(spec.run_id or new_run_id(spec.experiment), spec.source_directory, {
            "run": spec.to_dict(), "environment": environment.to_dict(), "compute": compute},
            lambda run_id: self.history.create_run(
                run_id, spec.experiment, self.name, spec.script, [_argument_record(a) for a in spec.arguments],
                spec.compute_target, environment.to_dict(), parent_run_id=spec.parent_run_id,
                properties=spec.properties), spec.tags)
        dispatch.start_run(self.layout, run_id, self.history)
        return run_id

    def submit_sweep(self, sweep):
        """The sweep's parent run is followed like any run, by a supervisor that runs its
        SweepController (``amlocal.sweeps``); children start from the parent's snapshot."""
        from ..sweeps import sweep_tags

        run_id = sweep.run_id or f"HD_{uuid.uuid4()}"
        trial = sweep.trial
        if trial.compute_target:
            self.stores.compute_targets.get(trial.compute_target)
        environment = self.resolved_environment(trial.environment)
        snapshot = self.layout.run_snapshot(run_id)
        children_spec = replace(sweep, run_id=run_id, trial=replace(trial, source_directory=str(snapshot)))
        self._record(run_id, trial.source_directory, {"kind": "hyperdrive", "sweep": children_spec.to_dict(),
                                                      "compute": None},
                     lambda run_id: self.history.create_run(
                         run_id, sweep.experiment, self.name, trial.script,
                         [_argument_record(a) for a in trial.arguments], trial.compute_target,
                         environment.to_dict(), run_type="hyperdrive", statuses_now=(statuses.NOT_STARTED,)),
                     {**sweep.tags, **sweep_tags(sweep)})
        dispatch.spawn_supervisor(self.layout, run_id)
        return run_id

    def _record(self, run_id, source_directory, description, create_row, tags):
        """Snapshot ``source_directory`` and write the spec in staging, move them into place,
        then record the run (``create_row(run_id)``) and its tags: a run is recorded whole or
        not at all."""
        validate_name("run_id", run_id)
        if self.layout.run_dir(run_id).exists():
            raise InvalidArgumentError(f"A run with id {run_id!r} already exists in this workspace; use another id.")
        staged = make_private_dir(self.layout.staging) / run_id
        try:
            make_private_dir(staged)
            report = take_snapshot(source_directory, staged / "snapshot", self.layout.snapshot_store,
                                   progress=_ProgressPrinter())
            for warning in report.warnings:
                print(f"amlocal: snapshot of {source_directory}: {warning}", file=sys.stderr)
            description = {
                "version": SPEC_VERSION, "run_id": run_id,
                "backend": {"name": self.name, "target": f"{type(self).__module__}:{type(self).__qualname__}",
                            "root": dispatch.import_root(type(self).__module__)},
                # with its directory: the run's processes never depend on their AMLOCAL_HOME
                "workspace": replace(self.workspace, root=str(self.layout.root)).to_dict(), "submitted": time.time(),
                "snapshot_warnings": list(report.warnings), **description,
            }
            _write_private(staged / "spec.json", json.dumps(description, indent=2))
            make_private_dir(self.layout.runs)
            os.rename(staged, self.layout.run_dir(run_id))
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        try:
            create_row(run_id)
            if tags:
                self.history.set_tags(run_id, tags)
        except BaseException:
            shutil.rmtree(self.layout.run_dir(run_id), ignore_errors=True)
            raise
        return run_id

    # -- status --------------------------------------------------------------------------------
    def get_status(self, run_id):
        status = self.history.get_run(run_id)["status"]
        if status not in statuses.TERMINAL:
            dispatch.ensure_followed(self.layout, run_id, status)
        return status

    def get_details(self, run_id):
        status = self.get_status(run_id)
        record = self.history.get_run(run_id)
        target = record["compute_target"] or "local"
        details = {
            "runId": run_id, "target": target, "status": status,
            "startTimeUtc": _utc(record["start_time"]), "endTimeUtc": _utc(record["end_time"]),
            "properties": {"azureml.runsource": "experiment", "backend": record["backend"], **record["properties"]},
            "inputDatasets": [], "outputDatasets": [],
            "runDefinition": {"script": record["script"], "arguments": [argument_text(a) for a in record["arguments"]],
                              "environment": record["environment"], "target": target},
            "logFiles": {name: str(self.layout.run_files(run_id) / name) for name in self.history.log_names(run_id)},
            "statusTimeline": self.history.status_timeline(run_id),
            "tags": record["tags"],
        }
        if record["parent_run_id"]:
            details["parentRunId"] = record["parent_run_id"]
        if record["error"]:
            details["error"] = record["error"]
        warnings = read_warnings(self.layout.run_warnings(run_id))
        if warnings:
            details["warnings"] = warnings
        return details

    def portal_url(self, run_id):
        # The run's page in the studio (`amlocal ui`). links is stdlib-only, and imported here so
        # that a backend never loads the studio package unless a link is asked for.
        from ..studio import links

        return links.run_url(self.layout.root, run_id)

    def web_view_text(self, run_id):
        from ..studio import links

        return links.web_view_text(self.layout.root, run_id)

    def cancel(self, run_id, reason=None):
        """A run nobody follows yet ends Canceled here; a followed one is stopped by its
        supervisor, which sees the request within a fraction of a second."""
        record = self.history.get_run(run_id)
        if record["status"] in statuses.TERMINAL:
            return
        self.history.request_cancel(run_id, reason)
        if liveness.is_held(self.layout.supervisor_lock(run_id)):
            self.history.set_status(run_id, statuses.CANCEL_REQUESTED)
            return
        if not self.layout.job_handle(run_id).exists():
            self.history.set_status(run_id, statuses.CANCELED, statuses.run_error(
                reason or "Canceled by the user before it started.", "EarlyTermination" if reason else "Canceled"))
            return
        # a job whose supervisor died: the process that adopts it stops it
        self.history.set_status(run_id, statuses.CANCEL_REQUESTED)
        dispatch.ensure_followed(self.layout, run_id, statuses.CANCEL_REQUESTED)


class _ProgressPrinter:
    """Prints a snapshot's progress to stderr, only when it takes long enough to wonder."""

    QUIET_SECONDS = 1.0

    def __init__(self):
        self.started = time.monotonic()
        self.printed = False

    def __call__(self, progress):
        done = progress.files_done == progress.files_total
        if time.monotonic() - self.started < self.QUIET_SECONDS and not (done and self.printed):
            return
        print(f"amlocal: {progress.line()}", file=sys.stderr, flush=True)
        self.printed = True


def _argument_record(argument):
    """How an argument is kept in run history (a data path as its dict; specs.argument_text shows it)."""
    return argument if isinstance(argument, str) else argument.to_dict()


def _write_private(path, text):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        handle.write(text)


def _utc(epoch):
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"

