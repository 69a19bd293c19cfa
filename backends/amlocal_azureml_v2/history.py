"""``AzureV2RunHistory``: amlocal's RunHistory over an Azure ML workspace's jobs and their MLflow runs.

What both Azure backends share (error shape, filters, files, whole-line logs) is
``amlocal_azure.run_history``; SDK v2 adds: a run is a job, its record shaped from the job's;
metrics as ``run.get_metrics()`` returns them read from and logged to its MLflow run
(``metrics``); its files are the job's artifacts. Azure keeps no status history a client can
read, so the timeline is the statuses this process saw.
"""

import threading

from amlocal.rules.models import string_tags
from amlocal.rules.paths import run_file_name
from amlocal_azure.run_history import AdapterRunHistory, last_lines, matching_runs, normalise_error, whole_lines
from amlocal_azure.sdk import StatusTimelines

from . import metrics as metrics_module
from .adapter import streamed_logs
from .errors import sdk_errors

__all__ = ["AzureV2RunHistory", "normalise_error"]


class AzureV2RunHistory(AdapterRunHistory):
    sdk_errors = sdk_errors
    kind = "job"

    def __init__(self, adapter, backend_name="azureml-v2"):
        super().__init__(adapter, backend_name)
        self._timelines = StatusTimelines()
        self._sinks = {}
        self._lock = threading.Lock()

    # -- statuses ------------------------------------------------------------------------------
    def observe(self, run_id, status):
        """Note a status seen now; nothing comes after a final one."""
        self._timelines.observe(run_id, status)

    def status_timeline(self, run_id):
        known = self._timelines.get(run_id)
        if known:
            return known
        with sdk_errors("get the job's status", run_id=run_id):
            self.observe(run_id, self.adapter.get_status(run_id))
        return self._timelines.get(run_id)

    # -- runs ------------------------------------------------------------------------------
    def get_run(self, run_id):
        with sdk_errors("get the job", run_id=run_id):
            record = dict(self.adapter.get_job(run_id))
        return self._run_record(record, with_tail=True)

    def _run_record(self, record, with_tail=False):
        run_id = record["name"]
        error = record.get("error")
        return {"run_id": run_id, "experiment": record.get("experiment"), "status": record.get("status"),
                "created": record.get("created"), "start_time": record.get("start_time"),
                "end_time": record.get("end_time"), "script": record.get("command"), "arguments": [],
                "compute_target": record.get("compute"), "environment": record.get("environment"),
                "tags": dict(record.get("tags") or {}), "properties": dict(record.get("properties") or {}),
                "parent_run_id": None, "backend": self.backend_name,
                "error": normalise_error(error, self.log_tail(run_id) if with_tail and error else None)}

    def log_tail(self, run_id):
        names = self.streamed_log_names(run_id)
        if not names:
            return ""
        with sdk_errors("read the job's log", run_id=run_id):
            data = self.adapter.read_log(run_id, names[-1], 0)
        return last_lines(data.decode("utf-8", "replace"))

    def list_runs(self, experiment=None, limit=None, tags=None, properties=None, parent_run_id=None):
        """A job made through SDK v2's ``command()`` has no parent run, so asking for the children
        of one finds none."""
        if parent_run_id is not None:
            return []
        filtered = tags is not None or properties is not None
        with sdk_errors("list jobs"):
            records = [self._run_record(r) for r in self.adapter.list_jobs(experiment, None if filtered else limit)]
        records = matching_runs(records, tags, properties)
        return records[:limit] if limit else records

    def start_run(self, experiment):
        with sdk_errors("start logging a run"):
            run_id = self.adapter.start_run(experiment)
        self.observe(run_id, "Running")
        return run_id

    def end_run(self, run_id, status, error=None):
        """An MLflow run ends with a status only (``set_terminated``): ``error`` has nowhere to go
        in SDK v2 and is not kept."""
        with sdk_errors("end the run", run_id=run_id):
            self.adapter.end_run(run_id, status)
        self.observe(run_id, status)

    # -- metrics and tags ----------------------------------------------------------------------
    def _sink(self, run_id):
        with self._lock:
            sink = self._sinks.get(run_id)
        if sink is None:
            with sdk_errors("read the job's metrics", run_id=run_id):
                steps = metrics_module.next_steps(self.adapter.metric_histories(run_id))
            sink = metrics_module.host_sink(self.adapter, run_id, steps)
            with self._lock:
                sink = self._sinks.setdefault(run_id, sink)
        return sink

    def log_metric(self, run_id, name, value, kind="scalar", step=None, description=""):
        sink = self._sink(run_id)
        with sdk_errors("log a metric", run_id=run_id):
            sink.event("metric", {"name": name, "type": kind, "value": value, "step": step,
                                  "description": description})

    def get_metrics(self, run_id, name=None, populate=False):
        with sdk_errors("get the job's metrics", run_id=run_id):
            return dict(metrics_module.read_metrics(self.adapter, run_id, name, populate))

    def set_tags(self, run_id, tags):
        with sdk_errors("tag the job", run_id=run_id):
            for key, value in string_tags(tags, missing="").items():
                self.adapter.set_tag(run_id, key, value)

    # -- files ---------------------------------------------------------------------------------
    def _file_names(self, run_id):
        return self.adapter.list_artifacts(run_id)

    def _download(self, run_id, name, target):
        self.adapter.download_artifact(run_id, name, target)

    def upload_file(self, run_id, name, path_or_stream):
        clean = run_file_name(name)
        source = path_or_stream if hasattr(path_or_stream, "read") else str(path_or_stream)
        sink = self._sink(run_id)
        with sdk_errors("upload a job file", run_id=run_id):
            sink.upload(clean, source)

    def read_log(self, run_id, name, offset=0, final=False, max_bytes=None):
        with sdk_errors("read the job's log", run_id=run_id):
            data = self.adapter.read_log(run_id, name, offset)
        return whole_lines(data, offset, final, max_bytes)

    def streamed_log_names(self, run_id):
        return streamed_logs(self.log_names(run_id))

