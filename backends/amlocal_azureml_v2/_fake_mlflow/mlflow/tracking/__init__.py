"""``mlflow.tracking.MlflowClient``: records each call, writes artifacts into the fake's store."""

import json
import math
import os
import shutil
import time

CALLS = "AMLOCAL_FAKE_MLFLOW_CALLS"
ARTIFACTS = "AMLOCAL_FAKE_MLFLOW_ARTIFACTS"


class MlflowException(Exception):
    pass


def _number(value):
    return value if isinstance(value, float) and (math.isnan(value) or math.isinf(value)) else float(value)


class MlflowClient(object):
    def __init__(self, tracking_uri=None, registry_uri=None):
        self._tracking_uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
        if not self._tracking_uri:
            raise MlflowException("No tracking URI: MLFLOW_TRACKING_URI is not set.")

    # -- recording ---------------------------------------------------------------------------
    @staticmethod
    def _record(op, run_id, **fields):
        fields.update(op=op, run_id=run_id, time=time.time())
        data = (json.dumps(fields, allow_nan=True) + "\n").encode("utf-8")
        fd = os.open(os.environ[CALLS], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    @staticmethod
    def _artifact_target(path):
        root = os.path.realpath(os.environ[ARTIFACTS])
        parts = [p for p in str(path).replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts or ".." in parts:
            raise MlflowException("Invalid artifact path: %r" % (path,))
        target = os.path.realpath(os.path.join(root, *parts))
        if not target.startswith(root + os.sep):
            raise MlflowException("Invalid artifact path: %r" % (path,))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        return target

    # -- the calls (signatures of mlflow.tracking.MlflowClient) ---------------------------------
    def log_metric(self, run_id, key, value, timestamp=None, step=None, synchronous=None, dataset_name=None,
                   dataset_digest=None, model_id=None):
        self._record("log_metric", run_id, key=key, value=_number(value),
                     timestamp=timestamp or int(time.time() * 1000), step=step or 0)

    def log_batch(self, run_id, metrics=(), params=(), tags=(), synchronous=None):
        self._record("log_batch", run_id, metrics=[
            {"key": m.key, "value": _number(m.value), "timestamp": m.timestamp, "step": m.step or 0} for m in metrics],
            tags=[{"key": t.key, "value": t.value} for t in tags])

    def log_dict(self, run_id, dictionary, artifact_file):
        with open(self._artifact_target(artifact_file), "w") as out:
            json.dump(dictionary, out, allow_nan=True)
        self._record("log_dict", run_id, artifact_file=artifact_file)

    def set_tag(self, run_id, key, value, synchronous=None):
        self._record("set_tag", run_id, key=key, value=str(value))

    def log_artifact(self, run_id, local_path, artifact_path=None):
        name = os.path.basename(local_path)
        shutil.copyfile(local_path, self._artifact_target(name if not artifact_path else artifact_path + "/" + name))
        self._record("log_artifact", run_id, local_path=local_path, artifact_path=artifact_path)
