"""Where ``Run.get_context()`` sends what an unmodified SDK v1 script logs when the job runs on
Azure ML through SDK v2 (``azure-ai-ml``): MLflow, against the job's own MLflow run.

Pure standard library at import, Python 3.8+, no import of amlocal: this file runs inside the
job (``run.py`` loads it) and on the host (the ``azureml-v2`` backend loads it to log from the
submitting process and to read back what it stored). ``mlflow`` itself is imported only by
``MlflowSink.for_job()``, inside a v2 job whose environment has ``mlflow`` + ``azureml-mlflow``.

When it is used (``wanted``): ``AMLOCAL_RUN_SINK=mlflow`` (the ``azureml-v2`` backend sets it on
every job it submits), or an Azure ML job's own MLflow variables, ``MLFLOW_TRACKING_URI`` and
``MLFLOW_RUN_ID`` (Azure ML sets them in every job on its compute). A local run's control
directory (``AMLOCAL_RUN_CONTROL``) always wins: run.py checks it first.

The mapping follows Microsoft's "Migrate logging from SDK v1 to SDK v2" table, through
``MlflowClient`` calls on the job's run id (``MLFLOW_RUN_ID``) rather than the fluent
``mlflow.log_*`` functions, so the shim never starts or ends an MLflow run behind the script's
back (a script that also calls ``mlflow.start_run()`` keeps working):

==========================  ================================================================
SDK v1 call                 MLflow
==========================  ================================================================
run.log(name, number|bool)  ``log_metric(run_id, name, float(value), step=step)``; without a
                            step, 0, 1, 2, ... per name (so the studio charts them in order)
run.log(name, str|other)    stored (see below): MLflow metrics are numbers only
run.log_list(name, values)  ``log_batch`` of the numeric values, steps 0, 1, 2, ...; stored
run.log_row(name, **cells)  ``log_metric("<name>.<column>", cell, step=row index)`` for numeric
                            cells; stored
run.log_table / log_confusion_matrix / log_image's metric
                            stored only
run.tag(key, value)         ``set_tag(run_id, key, value)`` (None becomes "")
run.upload_file(name, src)  ``log_artifact(run_id, <file named like name>, dirname(name))``:
                            the file lands at ``name`` among the job's artifacts
==========================  ================================================================

"Stored": every value of a metric MLflow cannot hold as a number series, with its SDK v1 kind, is
kept in the JSON artifact ``amlocal/metrics/<quoted name>.json`` (``{"name", "kind", "values"}``,
``log_dict``), rewritten at most every ``flush_seconds`` while the script logs and once more when
the process exits, ``run.flush()``/``complete()``/``fail()`` is called. The host reads those
files and the numeric series back into ``run.get_metrics()``'s shapes.
"""

import atexit
import json
import os
import shutil
import sys
import tempfile
import threading
import time

try:  # Python 3
    from urllib.parse import quote, unquote
except ImportError:  # pragma: no cover
    from urllib import quote, unquote

ENV_SINK = "AMLOCAL_RUN_SINK"
SINK_NAME = "mlflow"
METRICS_DIR = "amlocal/metrics"
FLUSH_SECONDS = 5.0

__all__ = ["METRICS_DIR", "MlflowSink", "metric_from_artifact", "stored_metric_path", "wanted"]


def wanted(environ=None):
    """Whether a job with these environment variables logs to MLflow."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV_SINK) == SINK_NAME:
        return True
    return bool(environ.get("MLFLOW_TRACKING_URI") and environ.get("MLFLOW_RUN_ID"))


def stored_metric_path(name):
    """The artifact holding the stored values of metric ``name`` (any characters, '/' included)."""
    return "{}/{}.json".format(METRICS_DIR, quote(str(name), safe=""))


def metric_from_artifact(path):
    """The metric name of a stored-metric artifact path; None for any other path."""
    prefix = METRICS_DIR + "/"
    if not path.startswith(prefix) or not path.endswith(".json") or "/" in path[len(prefix):]:
        return None
    return unquote(path[len(prefix):-len(".json")])


def _is_number(value):
    return type(value) in (int, float, bool)


def _now_ms():
    return int(time.time() * 1000)


class _ClientApi(object):
    """The five MlflowClient calls the sink makes, bound to one run id."""

    def __init__(self, client, run_id, metric_class):
        self.client = client
        self.run_id = run_id
        self.metric_class = metric_class

    def log_metric(self, key, value, step):
        self.client.log_metric(self.run_id, key, value, step=step)

    def log_batch(self, items):
        metrics = [self.metric_class(key=key, value=value, timestamp=_now_ms(), step=step)
                   for key, value, step in items]
        self.client.log_batch(self.run_id, metrics=metrics)

    def log_dict(self, dictionary, artifact_file):
        self.client.log_dict(self.run_id, dictionary, artifact_file)

    def set_tag(self, key, value):
        self.client.set_tag(self.run_id, key, value)

    def log_artifact(self, local_path, artifact_path):
        self.client.log_artifact(self.run_id, local_path, artifact_path)


class MlflowSink(object):
    """Receives run.py's events (``event``) and uploads (``upload``) and makes the MLflow calls.

    ``api`` has ``log_metric(key, value, step)``, ``log_batch([(key, value, step)])``,
    ``log_dict(dictionary, artifact_file)``, ``set_tag(key, value)`` and
    ``log_artifact(local_path, artifact_path)`` for one run; ``stored_values(name)``, when ``api``
    has it, gives the values a metric already holds (so a second writer extends it). In a job,
    failed calls are reported on stderr and the script goes on; ``raise_errors`` raises them."""

    def __init__(self, api, flush_seconds=FLUSH_SECONDS, raise_errors=False):
        self.api = api
        self.raise_errors = raise_errors  # the host wants its errors; a job must go on
        self.flush_seconds = flush_seconds
        self._lock = threading.RLock()
        self._steps = {}      # name -> next implicit step
        self._stored = {}     # name -> {"name", "kind", "values"}
        self._dirty = set()
        self._last_flush = time.monotonic()
        self._failures = 0

    def _call(self, method, *args):
        """One MLflow call. A failure is reported on stderr, never raised: as with SDK v1, logging
        must not end the training (the first few failures are shown, then a count)."""
        try:
            getattr(self.api, method)(*args)
        except Exception as err:  # the tracking service, the network, a bad value: all the same here
            if self.raise_errors:
                raise
            self._failures += 1
            if self._failures <= 3:
                sys.stderr.write("amlocal: could not send {} to the workspace's MLflow tracking: {}: {}\n"
                                 .format(method, type(err).__name__, err))
            elif self._failures == 4:
                sys.stderr.write("amlocal: further MLflow failures are not shown\n")

    @classmethod
    def for_job(cls, environ=None):
        """The sink of this Azure ML job, or None (with a warning on stderr) when ``mlflow`` is not
        importable: the run then behaves as an offline run, printing what it is asked to log."""
        environ = os.environ if environ is None else environ
        try:
            from mlflow.entities import Metric
            from mlflow.tracking import MlflowClient
        except ImportError as err:
            sys.stderr.write(
                "amlocal: this Azure ML job has no usable 'mlflow' package ({}), so Run.get_context() cannot "
                "send metrics to the workspace; they are only printed. Add 'mlflow' and 'azureml-mlflow' to the "
                "job's environment (amlocal adds them unless the environment is user-managed or curated).\n"
                .format(err))
            return None
        run_id = environ.get("MLFLOW_RUN_ID") or environ.get("AMLOCAL_RUN_ID")
        if not run_id:
            sys.stderr.write("amlocal: neither MLFLOW_RUN_ID nor AMLOCAL_RUN_ID is set in this job; metrics are "
                             "only printed.\n")
            return None
        sink = cls(_ClientApi(MlflowClient(), run_id, Metric))
        atexit.register(sink.flush)
        return sink

    # -- what run.py calls -----------------------------------------------------------------
    def event(self, kind, fields):
        if kind == "metric":
            self._metric(fields.get("type", "scalar"), fields["name"], fields.get("value"), fields.get("step"))
        elif kind == "tag":
            value = fields.get("value")
            self._call("set_tag", fields["key"], "" if value is None else str(value))
        elif kind == "status":
            self.flush()

    def upload(self, name, source):
        """Put ``source`` (a path or a readable stream) among the run's artifacts at ``name``
        (relative, '/'-separated, already checked by run.py)."""
        folder, _, filename = name.rpartition("/")
        staging = tempfile.mkdtemp(prefix="amlocal-upload-")
        try:
            local = os.path.join(staging, filename)
            with open(local, "wb") as out:
                if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
                    with open(source, "rb") as data:
                        shutil.copyfileobj(data, out)
                else:
                    while True:
                        chunk = source.read(1 << 20)
                        if not chunk:
                            break
                        out.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            self._call("log_artifact", local, folder or None)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def flush(self):
        """Write every stored metric that changed since the last flush."""
        with self._lock:
            dirty, self._dirty = sorted(self._dirty), set()
            self._last_flush = time.monotonic()
            records = [dict(self._stored[name], values=list(self._stored[name]["values"])) for name in dirty]
        for record in records:
            self._call("log_dict", record, stored_metric_path(record["name"]))

    # -- the mapping -------------------------------------------------------------------------
    def _next_step(self, name, count=1):
        with self._lock:
            step = self._steps.get(name, 0)
            self._steps[name] = step + count
            return step

    def _metric(self, kind, name, value, step):
        if kind == "scalar" and _is_number(value):
            self._call("log_metric", name, float(value), step if step is not None else self._next_step(name))
            return
        if kind == "list":
            numbers = [v for v in (value or []) if _is_number(v)]
            if numbers:
                first = self._next_step(name, len(numbers))
                self._call("log_batch", [(name, float(v), first + i) for i, v in enumerate(numbers)])
        elif kind == "row":
            row = self._next_step(name)
            for column, cell in sorted((value or {}).items()):
                if _is_number(cell):
                    self._call("log_metric", "{}.{}".format(name, column), float(cell), row)
        self._store(kind, name, value)

    def _store(self, kind, name, value):
        with self._lock:
            record = self._stored.get(name)
            if record is None or record["kind"] != kind:
                previous = []
                reader = getattr(self.api, "stored_values", None)
                if record is None and reader is not None:
                    previous = list(reader(name, kind) or [])
                record = self._stored[name] = {"name": name, "kind": kind, "values": previous}
            record["values"].append(json.loads(json.dumps(value, allow_nan=True)))
            self._dirty.add(name)
            due = time.monotonic() - self._last_flush >= self.flush_seconds
        if due:
            self.flush()
