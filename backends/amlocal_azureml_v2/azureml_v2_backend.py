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

from amlocal.exceptions import InvalidArgumentError
from amlocal.execution import ExecutionBackend
from amlocal.rules.names import new_run_id, validate_run_id

from . import _code, translate
from .adapter import STATUS_ORDER
from .errors import sdk_errors
from .history import normalise_error
from .stores import open_v2_stores


class AzureMLV2Backend(ExecutionBackend):
    name = "azureml-v2"
    #: SDK v2's job statuses, in the service's documented order (not Azure ML v1's)
    status_order = STATUS_ORDER

    def __init__(self, workspace, stores, adapter=None, default_compute_target=None, auth=None):
        super().__init__(workspace, stores)
        self.adapter = stores.adapter
        self._cancel_reasons = {}  # run id -> why this process canceled it
        self.poll_interval = self.adapter.poll_interval
        self.default_compute_target = default_compute_target or workspace.config.get("default_compute_target")

    @classmethod
    def open_stores(cls, workspace, adapter=None, auth=None, **options):
        return open_v2_stores(workspace, adapter, auth)

    @property
    def _history(self):
        return self.stores.run_history

    # -- execution -----------------------------------------------------------------------
    def submit(self, spec):
        target = spec.compute_target or self.default_compute_target
        if not target:
            raise InvalidArgumentError(
                "A run on Azure ML needs a compute target: pass compute_target=<an AmlCompute or its name> to the "
                "ScriptRunConfig / SKLearn, or set \"default_compute_target\" in config.json.")
        self.stores.compute_targets.get(target)
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
            raise InvalidArgumentError(
                f"Datastore path {data_path.datastore}/{data_path.path_on_datastore} does not exist. "
                "Upload the data first (ds.upload(src_dir=..., target_path=...)).")
        return kind

    def get_status(self, run_id):
        with sdk_errors("get the job's status", job=run_id):
            status = self.adapter.get_status(run_id)
        self._history.observe(run_id, status)
        return status

    def get_details(self, run_id):
        with sdk_errors("get the job's details", job=run_id):
            details = dict(self.adapter.get_details(run_id))
        self._history.observe(run_id, details.get("status"))
        details["statusTimeline"] = self._history.status_timeline(run_id)
        details["tags"] = self._history.get_tags(run_id)
        raw_error = details.pop("error", None)
        reason = self._cancel_reasons.get(run_id)
        if reason and details.get("status") == "Canceled":
            inner = (raw_error or {}).get("error") or raw_error or {}
            raw_error = {"code": inner.get("code") or "Canceled", "message": reason}
        if raw_error:
            details["error"] = normalise_error(raw_error, self._history.log_tail(run_id))
        return details

    def cancel(self, run_id, reason=None):
        """``jobs.begin_cancel``, not waiting for the job to end. SDK v2 takes no reason, so
        ``reason`` is kept by this backend object: its ``get_details`` shows it as the error's
        message once the job is Canceled."""
        with sdk_errors("cancel the job", job=run_id):
            self.adapter.cancel(run_id)
        if reason:
            self._cancel_reasons[run_id] = str(reason)

    def portal_url(self, run_id):
        with sdk_errors("get the job's studio address", job=run_id):
            return self.adapter.studio_url(run_id)
