"""Run (``azureml.core.Run``) on the submitting side: status, details, metrics, files, cancel,
``wait_for_completion`` and ``register_model``. Inside a job, ``Run.get_context()`` is the job's run."""

import os
import time
from pathlib import Path

from ..exceptions import ActivityFailedException, InvalidArgumentError
from ..rules import statuses
from ..rules.paths import run_file_name


class Run:
    def __init__(self, experiment, run_id, outputs=None, **kwargs):
        self.experiment = experiment
        self._run_id = run_id

    # -- identity --------------------------------------------------------------------------
    @property
    def id(self):
        return self._run_id

    @property
    def _workspace(self):
        return self.experiment.workspace

    @property
    def _backend(self):
        return self._workspace.backend

    @property
    def _history(self):
        return self._workspace.run_history

    @staticmethod
    def get(workspace, run_id):
        from .experiment import Experiment

        record = workspace.run_history.get_run(run_id)
        return Run._of_record(Experiment(workspace, record["experiment"], _skip_name_validation=True), record)

    @classmethod
    def _of_record(cls, experiment, record):
        """The Run of a run history record (a HyperDriveRun for a sweep's parent run)."""
        if record.get("run_type") == "hyperdrive":
            from ..train.hyperdrive.run import HyperDriveRun

            return HyperDriveRun(experiment, record["run_id"])
        return cls(experiment, record["run_id"])

    @property
    def type(self):
        return self._history.get_run(self._run_id).get("run_type") or "azureml.scriptrun"

    @property
    def properties(self):
        return dict(self._history.get_run(self._run_id).get("properties") or {})

    def get_properties(self):
        return self.properties

    @property
    def parent(self):
        """The run this one is a child of (a HyperDrive sweep's trial has its sweep), or None."""
        parent_id = self._history.get_run(self._run_id).get("parent_run_id")
        return Run.get(self._workspace, parent_id) if parent_id else None

    def get_children(self, recursive=False, tags=None, properties=None, type=None, status=None,
                     _rehydrate_runs=True):
        """This run's child runs, newest first (all descendants when ``recursive``)."""
        pending, found = [self._run_id], []
        while pending:
            records = self._history.list_runs(parent_run_id=pending.pop(0), tags=tags, properties=properties)
            for record in records:
                if (type is None or record.get("run_type") == type) and (status is None or record["status"] == status):
                    found.append(Run._of_record(self.experiment, record))
                if recursive:
                    pending.append(record["run_id"])
        return iter(found)

    @staticmethod
    def get_context(allow_offline=True, used_for_context_manager=False, **kwargs):
        """Inside a job: the job's run (metrics go to run history). Elsewhere: an offline run."""
        from .._runtime import job_run_class

        return job_run_class().get_context(allow_offline=allow_offline,
                                           used_for_context_manager=used_for_context_manager, **kwargs)

    # -- status ----------------------------------------------------------------------------
    def get_status(self):
        return self._backend.get_status(self._run_id)

    def get_details(self):
        return self._backend.get_details(self._run_id)

    def get_details_with_logs(self):
        details = self.get_details()
        details["logFiles"] = {name: self._history.read_log(self._run_id, name)[0]
                               for name in self._history.log_names(self._run_id)}
        return details

    def get_all_logs(self, destination=None):
        """Write every log of the run under ``destination`` (default ``./assets/<run id>``), as
        azureml does; returns the paths written."""
        target = Path(destination) if destination else Path.cwd() / "assets" / self._run_id
        if target.exists() and not target.is_dir():
            raise InvalidArgumentError(f"{target} exists and is not a directory: give get_all_logs(destination=...) "
                                       "a directory, or a path that does not exist yet.")
        written = []
        for name, text in self.get_details_with_logs()["logFiles"].items():
            path = target / run_file_name(name, "log name")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(str(path))
        return written

    def wait_for_completion(self, show_output=False, wait_post_processing=False, raise_on_error=True):
        """Block until the run ends. With show_output, stream its logs as Azure ML prints them.
        Raises ActivityFailedException when it ended Failed or Canceled and raise_on_error."""
        from .._show_output import RunOutputFollower

        poll = self._backend.poll_interval
        follower = RunOutputFollower(self) if show_output else None
        if follower:
            follower.start()
        while True:
            status = self.get_status()
            if follower:
                follower.poll()
            if status in statuses.TERMINAL:
                break
            time.sleep(poll)
        details = self.get_details()
        if follower:
            follower.finish(details, raise_on_error)
        # as azureml: a Failed run raises, a Canceled one returns its details
        if raise_on_error and status == statuses.FAILED:
            raise ActivityFailedException.of_run(self._run_id, status, details.get("error"))
        return details

    def cancel(self):
        self._backend.cancel(self._run_id)

    def complete(self, _set_status=True):
        if _set_status:
            self._history.end_run(self._run_id, statuses.COMPLETED)

    def fail(self, error_details=None, error_code=None, _set_status=True):
        if _set_status:
            message = f"{type(error_details).__name__}: {error_details}" if isinstance(error_details, BaseException) \
                else str(error_details or "Failed by the user")
            self._history.end_run(self._run_id, statuses.FAILED, statuses.run_error(message, error_code or "UserError"))

    # -- metrics and tags ------------------------------------------------------------------
    def log(self, name, value, description='', step=None):
        self._history.log_metric(self._run_id, name, _plain(value), "scalar", step, description)

    def log_list(self, name, value, description=''):
        self._history.log_metric(self._run_id, name, [_plain(v) for v in value], "list", None, description)

    def log_row(self, name, description=None, **kwargs):
        self._history.log_metric(self._run_id, name, {k: _plain(v) for k, v in kwargs.items()}, "row", None,
                                 description or "")

    def log_table(self, name, value, description=''):
        self._history.log_metric(self._run_id, name, {k: [_plain(x) for x in v] for k, v in value.items()},
                                 "table", None, description)

    def log_image(self, name, path=None, plot=None, description=''):
        artifact = f"{name}_{int(time.time() * 1000)}.png"
        if path is not None:
            self.upload_file(artifact, path)
        elif plot is not None:
            import io

            buffer = io.BytesIO()
            plot.savefig(buffer, format="png")
            buffer.seek(0)
            self.upload_file(artifact, buffer)
        else:
            raise InvalidArgumentError("log_image needs path= or plot=.")
        self._history.log_metric(self._run_id, name, {"artifact": artifact}, "image", None, description)

    def log_confusion_matrix(self, name, value, description=''):
        self._history.log_metric(self._run_id, name, value, "confusion_matrix", None, description)

    def get_metrics(self, name=None, recursive=False, run_type=None, populate=False):
        if not recursive:
            return self._history.get_metrics(self._run_id, name, populate)
        # azureml: {run id: metrics} of this run and every descendant
        found, pending = {}, [self._run_id]
        while pending:
            run_id = pending.pop(0)
            metrics = self._history.get_metrics(run_id, name, populate)
            if metrics:
                found[run_id] = metrics
            pending.extend(r["run_id"] for r in self._history.list_runs(parent_run_id=run_id))
        return found

    def tag(self, key, value=None):
        self._history.set_tags(self._run_id, {key: value})

    def set_tags(self, tags):
        if not isinstance(tags, dict):
            raise InvalidArgumentError("set_tags takes a dict of str to str.")
        self._history.set_tags(self._run_id, tags)

    def get_tags(self):
        return self._history.get_tags(self._run_id)

    # -- files -----------------------------------------------------------------------------
    def get_file_names(self):
        return self._history.list_files(self._run_id)

    def download_file(self, name, output_file_path=None, _validate_checksum=False):
        return self._history.download_file(self._run_id, name, output_file_path or Path(name).name)

    def download_files(self, prefix=None, output_directory=None, output_paths=None, batch_size=100,
                       append_prefix=True, timeout_seconds=None):
        names = [n for n in self.get_file_names() if prefix is None or n.startswith(prefix)]
        target_root = Path(output_directory or ".")
        written = []
        for index, name in enumerate(names):
            if output_paths:
                target = Path(output_paths[index])
            else:
                relative = name if append_prefix or not prefix else name[len(prefix):].lstrip("/")
                target = target_root / relative
            written.append(self._history.download_file(self._run_id, name, target))
        return written

    def upload_file(self, name, path_or_stream, datastore_name=None):
        self._history.upload_file(self._run_id, name, path_or_stream)

    def upload_files(self, names, paths, return_artifacts=False, timeout_seconds=None, datastore_name=None):
        if len(names) != len(paths):
            raise InvalidArgumentError("upload_files needs as many names as paths.")
        for name, path in zip(names, paths):
            self.upload_file(name, path)

    def upload_folder(self, name, path, datastore_name=None):
        root = Path(path)
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            self.upload_file(f"{name.rstrip('/')}/{file.relative_to(root).as_posix()}", file)

    # -- models ----------------------------------------------------------------------------
    def register_model(self, model_name, model_path=None, tags=None, properties=None, model_framework=None,
                       model_framework_version=None, description=None, datasets=None, sample_input_dataset=None,
                       sample_output_dataset=None, resource_configuration=None, **kwargs):
        from .model import Model

        if model_path is None:  # as azureml: the model's name is its path in the run's files
            model_path = model_name
        record = self._workspace.model_registry.register_from_run(
            self._run_id, model_path, model_name, tags=tags, properties=properties, description=description,
            model_framework=model_framework, model_framework_version=model_framework_version)
        return Model(self._workspace, _record=record)

    def get_portal_url(self):
        return self._backend.portal_url(self._run_id)

    def flush(self, timeout_seconds=300):
        pass

    def __repr__(self):
        return f"Run(Experiment: {self.experiment.name}, Id: {self._run_id}, Type: {self.type}, Status: {self.get_status()})"


def _plain(value):
    """numpy scalars and arrays become plain Python values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return value
