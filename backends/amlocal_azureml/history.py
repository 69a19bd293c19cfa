"""``AzureRunHistory``: amlocal's RunHistory over Azure ML's own run history (through the adapter).

Shapes are those of the local run history, so user code sees the same values on either side:
metrics as ``run.get_metrics()`` returns them, sorted file names, logs read by byte offset in
whole lines (what ``wait_for_completion(show_output=True)`` streams).
"""

import os
import tempfile
from pathlib import Path

from amlocal.exceptions import RunError
from amlocal.rules import filters
from amlocal.rules.statuses import run_error
from amlocal.stores import RunHistory
from amlocal.stores.run_history import log_chunk

from .errors import sdk_errors

#: The log a failure's tail is taken from, most telling first (new runtime, then the classic one).
DRIVER_LOGS = ("user_logs/std_log.txt", "azureml-logs/70_driver_log.txt")
LOG_TAIL_LINES = 30


def normalise_error(raw, log_tail=None):
    """Azure's error ({"error": {"code", "message", ...}} or {"code", "message", ...}) as amlocal's
    {"error": <Azure's, whole>, "message", "code", "log_tail"}; None when there is none."""
    if not raw:
        return None
    inner = raw.get("error") if isinstance(raw.get("error"), dict) else raw
    error = run_error(inner.get("message") or str(inner), inner.get("code"), log_tail)
    error["error"] = {**inner, **error["error"]}  # Azure's own fields too (messageFormat, innerError, ...)
    return error


class AzureRunHistory(RunHistory):
    def __init__(self, adapter, backend_name="azureml"):
        self.adapter = adapter
        self.backend_name = backend_name

    # -- runs ------------------------------------------------------------------------------
    def get_run(self, run_id):
        with sdk_errors("get the run", run_id=run_id):
            record = dict(self.adapter.get_run(run_id))
        record["backend"] = self.backend_name
        record["error"] = self.error_of(run_id, record.get("error"))
        record.setdefault("properties", {})
        record.setdefault("parent_run_id", None)
        return record

    def error_of(self, run_id, raw):
        """amlocal's error dict of a run, with the tail of its driver log."""
        if not raw:
            return None
        return normalise_error(raw, self.log_tail(run_id))

    def log_tail(self, run_id, lines=LOG_TAIL_LINES):
        names = self.log_names(run_id)
        preferred = [n for n in DRIVER_LOGS if n in names] or names[-1:]
        if not preferred:
            return ""
        with sdk_errors("read the run's log", run_id=run_id):
            text = self.adapter.read_log(run_id, preferred[0])
        return "".join(text.splitlines(keepends=True)[-lines:])

    def list_runs(self, experiment=None, limit=None, tags=None, properties=None, parent_run_id=None):
        filtered = tags or properties or parent_run_id
        with sdk_errors("list runs"):
            records = [dict(r) for r in self.adapter.list_runs(experiment, None if filtered else limit)]
        tag_pairs, property_pairs = filters.run_filter_pairs(tags), filters.run_filter_pairs(properties)
        records = [r for r in records if filters.matches(r.get("tags") or {}, tag_pairs)
                   and filters.matches(r.get("properties") or {}, property_pairs)
                   and (parent_run_id is None or r.get("parent_run_id") == parent_run_id)]
        for record in records:
            record["backend"] = self.backend_name
            record["error"] = normalise_error(record.get("error"))
            record.setdefault("properties", {})
            record.setdefault("parent_run_id", None)
        return records[:limit] if limit else records

    def start_run(self, experiment):
        with sdk_errors("start logging a run"):
            return self.adapter.start_logging(experiment)

    def end_run(self, run_id, status, error=None):
        with sdk_errors("end the run", run_id=run_id):
            self.adapter.end_run(run_id, status, error)

    def list_experiments(self):
        with sdk_errors("list experiments"):
            return list(self.adapter.list_experiments())

    def status_timeline(self, run_id):
        with sdk_errors("get the run's status history", run_id=run_id):
            return list(self.adapter.status_timeline(run_id))

    # -- metrics and tags ----------------------------------------------------------------------
    def log_metric(self, run_id, name, value, kind="scalar", step=None, description=""):
        with sdk_errors("log a metric", run_id=run_id):
            self.adapter.log_metric(run_id, name, value, kind, step, description)

    def get_metrics(self, run_id, name=None, populate=False):
        with sdk_errors("get the run's metrics", run_id=run_id):
            return dict(self.adapter.get_metrics(run_id, name, populate))

    def set_tags(self, run_id, tags):
        with sdk_errors("tag the run", run_id=run_id):
            self.adapter.set_tags(run_id, {str(k): None if v is None else str(v) for k, v in tags.items()})

    def get_tags(self, run_id):
        with sdk_errors("get the run's tags", run_id=run_id):
            return dict(self.adapter.get_tags(run_id))

    # -- files ---------------------------------------------------------------------------------
    def list_files(self, run_id):
        with sdk_errors("list the run's files", run_id=run_id):
            return sorted(self.adapter.list_files(run_id))

    def download_file(self, run_id, name, output_file_path):
        files = self.list_files(run_id)
        if name not in files:
            raise RunError(f"Run {run_id} has no file {name!r}. Its files: {', '.join(files) or '(none)'}")
        target = Path(output_file_path)
        if target.is_dir():
            target = target / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        with sdk_errors("download a run file", run_id=run_id):
            self.adapter.download_file(run_id, name, str(target))
        return str(target)

    def upload_file(self, run_id, name, path_or_stream):
        if not hasattr(path_or_stream, "read"):
            with sdk_errors("upload a run file", run_id=run_id):
                self.adapter.upload_file(run_id, name, str(path_or_stream))
            return
        # A stream goes up as a file, so both adapters only ever handle paths.
        data = path_or_stream.read()
        handle, temporary = tempfile.mkstemp(prefix="amlocal-upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data.encode() if isinstance(data, str) else data)
            with sdk_errors("upload a run file", run_id=run_id):
                self.adapter.upload_file(run_id, name, temporary)
        finally:
            os.unlink(temporary)

    def read_log(self, run_id, name, offset=0, final=False, max_bytes=None):
        with sdk_errors("read the run's log", run_id=run_id):
            data = self.adapter.read_log(run_id, name).encode("utf-8")
        data = data[offset:offset + max_bytes] if max_bytes else data[offset:]
        end = log_chunk(data, final, max_bytes)  # whole lines only, as the local history
        return data[:end].decode("utf-8", "replace"), offset + end

    def log_names(self, run_id):
        with sdk_errors("list the run's logs", run_id=run_id):
            return list(self.adapter.log_names(run_id))

