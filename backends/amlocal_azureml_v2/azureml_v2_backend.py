"""``AzureMLV2Backend``: the same amlocal user code and unmodified training script, run on an Azure
ML workspace through the supported SDK v2 (``azure-ai-ml``).

A thin layer: what a run becomes is ``translate`` (a ``command()`` job), the code it receives is
``_code`` (source + runtime shim), every Azure call is the adapter's (``SdkV2Adapter`` by default,
any ``AzureMLV2Adapter`` through ``backend_options={"adapter": ...}``), and the workspace's run
history, models, clusters, datastores and environments are ``stores``. Options
(``backend_options`` or config.json):

* ``adapter``: an AzureMLV2Adapter; default: the one made current by ``fake.mock_azureml_v2()``,
  else the real SDK's (which signs in and fails at once without credentials);
* ``auth``: an azure-identity credential (``Workspace(auth=...)`` passes it here);
* ``default_compute_target`` (also config.json "default_compute_target"): the cluster of runs
  submitted without ``compute_target``.
"""

import shutil

from amlocal.rules.names import new_run_id, validate_run_id
from amlocal_azure.execution import AzureExecutionBackend, missing_data_path

from . import _code, translate
from .adapter import STATUS_ORDER
from .errors import sdk_errors
from .stores import open_v2_stores


class AzureMLV2Backend(AzureExecutionBackend):
    name = "azureml-v2"
    #: SDK v2's job statuses, in the service's documented order (not Azure ML v1's)
    status_order = STATUS_ORDER

    def __init__(self, workspace, stores, adapter=None, default_compute_target=None, auth=None):
        super().__init__(workspace, stores, adapter, default_compute_target, auth)
        self._cancel_reasons = {}  # run id -> why this process canceled it

    @classmethod
    def open_stores(cls, workspace, adapter=None, auth=None, **options):
        return open_v2_stores(workspace, adapter, auth)

    @property
    def _history(self):
        return self.stores.run_history

    # -- execution -----------------------------------------------------------------------
    def submit(self, spec):
        target = self.compute_target(spec)
        file_inputs = [d for d in spec.data_paths if self._data_path_kind(d) == "file"]
        name = validate_run_id(spec.run_id) if spec.run_id else new_run_id(spec.experiment)
        staged, skipped = _code.stage(spec.source_directory)
        try:
            if skipped:
                print(f"amlocal: not sending {len(skipped)} link(s) that point outside source_directory: "
                      + ", ".join(skipped[:10]))
            job = translate.to_command_job(spec, name, staged, target, file_inputs)
            with sdk_errors("submit the job"):
                return self.adapter.submit(job)
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    def _data_path_kind(self, data_path):
        kind = self.stores.datastores.path_kind(data_path.datastore, data_path.path_on_datastore)
        if kind is None:
            raise missing_data_path(data_path)
        return kind

    def get_status(self, run_id):
        with sdk_errors("get the job's status", run_id=run_id):
            status = self.adapter.get_status(run_id)
        self._history.observe(run_id, status)
        return status

    def get_details(self, run_id):
        with sdk_errors("get the job's details", run_id=run_id):
            details = dict(self.adapter.get_details(run_id))
        self._history.observe(run_id, details.get("status"))
        raw_error = details.pop("error", None)
        reason = self._cancel_reasons.get(run_id)
        if reason and details.get("status") == "Canceled":
            inner = (raw_error or {}).get("error") or raw_error or {}
            raw_error = {"code": inner.get("code") or "Canceled", "message": reason}
        return self.details(run_id, details, raw_error)

    def cancel(self, run_id, reason=None):
        """``jobs.begin_cancel``, not waiting for the job to end. SDK v2 takes no reason, so
        ``reason`` is kept by this backend object: its ``get_details`` shows it as the error's
        message once the job is Canceled."""
        with sdk_errors("cancel the job", run_id=run_id):
            self.adapter.cancel(run_id)
        if reason:
            self._cancel_reasons[run_id] = str(reason)

    def portal_url(self, run_id):
        with sdk_errors("get the job's studio address", run_id=run_id):
            return self.adapter.studio_url(run_id)
