"""A job's MLflow data read back as ``run.get_metrics()`` shapes, and host-side logging through the
same mapping the job uses.

The mapping between SDK v1 metric kinds and MLflow has one home: the shim's ``_mlflow_sink``
(it runs in the job). This module loads that same file on the host (from the shim directory
every job receives, ``amlocal.local.job_shim_dir``), so what the job wrote and what the host
reads back (``read_metrics``) or logs itself (``host_sink``) cannot drift. The shapes
``get_metrics`` returns are ``amlocal.rules.metrics``, as on every other backend.
"""

import functools
import importlib.util
import json
import tempfile
from pathlib import Path

from amlocal.local import job_shim_dir
from amlocal.rules import metrics as metric_rules


@functools.lru_cache(maxsize=1)
def sink_module():
    """The shim's ``_mlflow_sink`` module, loaded from the shim directory (never as ``azureml``)."""
    path = Path(job_shim_dir()) / "azureml" / "core" / "_mlflow_sink.py"
    spec = importlib.util.spec_from_file_location("amlocal_azureml_v2._shim_mlflow_sink", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored_metrics(adapter, job):
    """{name: {"name", "kind", "values"}} of the metrics the shim stored as JSON artifacts."""
    sink = sink_module()
    stored = {}
    for path in adapter.list_artifacts(job, sink.METRICS_DIR):
        name = sink.metric_from_artifact(path)
        if name is None:
            continue
        with tempfile.TemporaryDirectory(prefix="amlocal-metric-") as folder:
            target = Path(folder) / "metric.json"
            adapter.download_artifact(job, path, str(target))
            try:
                record = json.loads(target.read_text(encoding="utf-8"))
            except ValueError:
                continue
        if isinstance(record, dict) and isinstance(record.get("values"), list):
            stored[record.get("name", name)] = {"kind": record.get("kind", "scalar"), "values": record["values"]}
    return stored


def v1_shapes(histories, stored, name=None, run_id="", populate=False):
    """``run.get_metrics(name, populate=populate)`` of job ``run_id`` whose numeric series are
    ``histories`` ({key: [(step, timestamp, value)]}) and whose other metrics are ``stored``.
    Series the shim logged only for the studio's charts (a list's values, a row's
    "<name>.<column>" cells) are left out: the stored record has them with their original kind."""
    rows_of = {n for n, r in stored.items() if r["kind"] in ("row", "table")}
    lists = {n for n, r in stored.items() if r["kind"] == "list"}
    rows = []
    for key in histories:
        if key in lists or any(key.startswith(n + ".") for n in rows_of):
            continue
        for step, timestamp, value in sorted(histories[key], key=lambda point: (point[0] or 0, point[1] or 0)):
            rows.append((key, "scalar", value))
    for metric, record in stored.items():
        rows.extend((metric, record["kind"], value) for value in record["values"])
    return metric_rules.aggregate((row for row in rows if name is None or row[0] == name), run_id, populate)


def read_metrics(adapter, job, name=None, populate=False):
    return v1_shapes(adapter.metric_histories(job), stored_metrics(adapter, job), name, job, populate)


class _HostApi:
    """The sink's five calls made through the adapter for one job, plus the values a stored
    metric already holds (so the host extends what the job logged)."""

    def __init__(self, adapter, job):
        self.adapter, self.job = adapter, job

    def log_metric(self, key, value, step):
        self.adapter.log_metric(self.job, key, value, step)

    def log_batch(self, items):
        self.adapter.log_batch(self.job, list(items))

    def log_dict(self, dictionary, artifact_file):
        self.adapter.log_dict(self.job, dictionary, artifact_file)

    def set_tag(self, key, value):
        self.adapter.set_tag(self.job, key, value)

    def log_artifact(self, local_path, artifact_path):
        self.adapter.log_artifact(self.job, local_path, artifact_path)

    def stored_values(self, name, kind):
        record = stored_metrics(self.adapter, self.job).get(name)
        return record["values"] if record and record["kind"] == kind else []


def host_sink(adapter, job, steps=None):
    """A sink writing to job ``job`` from this process, flushing at once. ``steps``: the next
    implicit step of each numeric series (continue after what the job logged)."""
    sink = sink_module().MlflowSink(_HostApi(adapter, job), flush_seconds=0, raise_errors=True)
    sink._steps.update(steps or {})
    return sink


def next_steps(histories):
    """{key: the step after the highest one logged}: where host-side logging continues a series."""
    return {key: max((p[0] or 0) for p in points) + 1 for key, points in histories.items() if points}
