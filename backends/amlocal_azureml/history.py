"""``AzureRunHistory``: amlocal's RunHistory over Azure ML's own run history (through the adapter).

What both Azure backends share (error shape, filters, files, whole-line logs) is
``amlocal_azure.run_history``; SDK v1 adds its run records as they are, the driver log a
failure's tail is taken from, metrics and tags set through run history, and streams uploaded
as files.
"""

import os
import tempfile

from amlocal.rules.models import string_tags
from amlocal_azure.run_history import AdapterRunHistory, last_lines, matching_runs, normalise_error, whole_lines

from .errors import sdk_errors

__all__ = ["AzureRunHistory", "normalise_error"]

#: The log a failure's tail is taken from, most telling first (new runtime, then the classic one).
DRIVER_LOGS = ("user_logs/std_log.txt", "azureml-logs/70_driver_log.txt")


class AzureRunHistory(AdapterRunHistory):
    sdk_errors = sdk_errors

    def __init__(self, adapter, backend_name="azureml"):
        super().__init__(adapter, backend_name)

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

    def log_tail(self, run_id):
        names = self.log_names(run_id)
        preferred = [n for n in DRIVER_LOGS if n in names] or names[-1:]
        if not preferred:
            return ""
        with sdk_errors("read the run's log", run_id=run_id):
            return last_lines(self.adapter.read_log(run_id, preferred[0]))

    def list_runs(self, experiment=None, limit=None, tags=None, properties=None, parent_run_id=None):
        filtered = tags or properties or parent_run_id
        with sdk_errors("list runs"):
            records = [dict(r) for r in self.adapter.list_runs(experiment, None if filtered else limit)]
        records = matching_runs(records, tags, properties, parent_run_id)
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
            self.adapter.set_tags(run_id, string_tags(tags))

    # -- files ---------------------------------------------------------------------------------
    def _file_names(self, run_id):
        return self.adapter.list_files(run_id)

    def _download(self, run_id, name, target):
        self.adapter.download_file(run_id, name, target)

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
        return whole_lines(data[offset:], offset, final, max_bytes)
