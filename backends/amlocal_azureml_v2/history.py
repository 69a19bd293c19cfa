"""``AzureV2RunHistory``: amlocal's RunHistory over an Azure ML workspace's jobs and their MLflow runs.

Shapes are those of the local run history, so user code sees the same values on either side:
metrics as ``run.get_metrics()`` returns them (``metrics.read_metrics``), sorted file names (the
job's artifacts), logs read by byte offset in whole lines (``wait_for_completion(show_output=True)``).
Azure keeps no status history a client can read, so the timeline is the statuses this process saw.
"""

import threading
import time
from pathlib import Path

from amlocal.exceptions import RunError
from amlocal.rules import filters
from amlocal.rules.paths import run_file_name
from amlocal.rules.statuses import is_terminal, run_error
from amlocal.stores import RunHistory
from amlocal.stores.run_history import log_chunk

from . import metrics as metrics_module
from .adapter import streamed_logs
from .errors import sdk_errors

LOG_TAIL_LINES = 30


def normalise_error(raw, log_tail=None):
    """Azure's error ({"code", "message"}, possibly wrapped in {"error": ...}) as amlocal's
    (``amlocal.rules.statuses.run_error``); None when there is none."""
    if not raw:
        return None
    inner = raw.get("error") if isinstance(raw.get("error"), dict) else raw
    return run_error(inner.get("message") or str(inner), inner.get("code"), log_tail)


class AzureV2RunHistory(RunHistory):
    def __init__(self, adapter, backend_name="azureml-v2"):
        self.adapter = adapter
        self.backend_name = backend_name
        self._timelines = {}
        self._sinks = {}
        self._lock = threading.Lock()

    # -- statuses ------------------------------------------------------------------------------
    def observe(self, run_id, status):
        """Note a status seen now; nothing comes after a final one."""
        with self._lock:
            timeline = self._timelines.setdefault(run_id, [])
            if timeline and is_terminal(timeline[-1][0]):
                return
            if not timeline or timeline[-1][0] != status:
                timeline.append((status, time.time()))

    def status_timeline(self, run_id):
        with self._lock:
            known = list(self._timelines.get(run_id, []))
        if known:
            return known
        with sdk_errors("get the job's status", job=run_id):
            self.observe(run_id, self.adapter.get_status(run_id))
        with self._lock:
            return list(self._timelines[run_id])

    # -- runs ------------------------------------------------------------------------------
    def get_run(self, run_id):
        with sdk_errors("get the job", job=run_id):
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

    def log_tail(self, run_id, lines=LOG_TAIL_LINES):
        names = self.streamed_log_names(run_id)
        if not names:
            return ""
        with sdk_errors("read the job's log", job=run_id):
            data = self.adapter.read_log(run_id, names[-1], 0)
        return "".join(data.decode("utf-8", "replace").splitlines(keepends=True)[-lines:])

    def list_runs(self, experiment=None, limit=None, tags=None, properties=None, parent_run_id=None):
        """A job made through SDK v2's ``command()`` has no parent run, so asking for the children
        of one finds none."""
        if parent_run_id is not None:
            return []
        filtered = tags is not None or properties is not None
        with sdk_errors("list jobs"):
            records = [self._run_record(r) for r in self.adapter.list_jobs(experiment, None if filtered else limit)]
        tag_pairs, property_pairs = filters.run_filter_pairs(tags), filters.run_filter_pairs(properties)
        records = [r for r in records if filters.matches(r["tags"], tag_pairs)
                   and filters.matches(r["properties"], property_pairs)]
        return records[:limit] if limit else records

    def start_run(self, experiment):
        with sdk_errors("start logging a run"):
            run_id = self.adapter.start_run(experiment)
        self.observe(run_id, "Running")
        return run_id

    def end_run(self, run_id, status, error=None):
        """An MLflow run ends with a status only (``set_terminated``): ``error`` has nowhere to go
        in SDK v2 and is not kept."""
        with sdk_errors("end the run", job=run_id):
            self.adapter.end_run(run_id, status)
        self.observe(run_id, status)

    def list_experiments(self):
        with sdk_errors("list experiments"):
            return list(self.adapter.list_experiments())

    # -- metrics and tags ----------------------------------------------------------------------
    def _sink(self, run_id):
        with self._lock:
            sink = self._sinks.get(run_id)
        if sink is None:
            with sdk_errors("read the job's metrics", job=run_id):
                steps = metrics_module.next_steps(self.adapter.metric_histories(run_id))
            sink = metrics_module.host_sink(self.adapter, run_id, steps)
            with self._lock:
                sink = self._sinks.setdefault(run_id, sink)
        return sink

    def log_metric(self, run_id, name, value, kind="scalar", step=None, description=""):
        sink = self._sink(run_id)
        with sdk_errors("log a metric", job=run_id):
            sink.event("metric", {"name": name, "type": kind, "value": value, "step": step,
                                  "description": description})

    def get_metrics(self, run_id, name=None, populate=False):
        with sdk_errors("get the job's metrics", job=run_id):
            return dict(metrics_module.read_metrics(self.adapter, run_id, name, populate))

    def set_tags(self, run_id, tags):
        with sdk_errors("tag the job", job=run_id):
            for key, value in tags.items():
                self.adapter.set_tag(run_id, str(key), "" if value is None else str(value))

    def get_tags(self, run_id):
        with sdk_errors("get the job's tags", job=run_id):
            return dict(self.adapter.get_tags(run_id))

    # -- files ---------------------------------------------------------------------------------
    def list_files(self, run_id):
        with sdk_errors("list the job's files", job=run_id):
            return sorted(self.adapter.list_artifacts(run_id))

    def download_file(self, run_id, name, output_file_path):
        files = self.list_files(run_id)
        if name not in files:
            raise RunError(f"Run {run_id} has no file {name!r}. Its files: {', '.join(files) or '(none)'}")
        target = Path(output_file_path)
        if target.is_dir():
            target = target / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        with sdk_errors("download a job file", job=run_id):
            self.adapter.download_artifact(run_id, name, str(target))
        return str(target)

    def upload_file(self, run_id, name, path_or_stream):
        clean = run_file_name(name)
        source = path_or_stream if hasattr(path_or_stream, "read") else str(path_or_stream)
        sink = self._sink(run_id)
        with sdk_errors("upload a job file", job=run_id):
            sink.upload(clean, source)

    def read_log(self, run_id, name, offset=0, final=False, max_bytes=None):
        with sdk_errors("read the job's log", job=run_id):
            data = self.adapter.read_log(run_id, name, offset)
        if max_bytes:
            data = data[:max_bytes]
        end = log_chunk(data, final, max_bytes)  # whole lines only, as the local history
        return data[:end].decode("utf-8", "replace"), offset + end

    def log_names(self, run_id):
        with sdk_errors("list the job's logs", job=run_id):
            return list(self.adapter.log_names(run_id))

    def streamed_log_names(self, run_id):
        return streamed_logs(self.log_names(run_id))

