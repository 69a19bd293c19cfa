"""A stand-in for the ``mlflow`` package inside FakeV2Adapter's jobs (never on the host's path).

It has the few names amlocal's runtime shim calls, with the real package's signatures
(``MlflowClient.log_metric / log_batch / log_dict / set_tag / log_artifact``, ``entities.Metric``;
a test compares them with the installed mlflow), and records every call as one JSON line in
``$AMLOCAL_FAKE_MLFLOW_CALLS``; artifacts are written under ``$AMLOCAL_FAKE_MLFLOW_ARTIFACTS``,
where the fake reads them back as the job's files. Standard library only.
"""

from mlflow.tracking import MlflowClient  # noqa: F401

__version__ = "0.0.0+amlocal.fake"
