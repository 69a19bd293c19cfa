"""``AzureMLV2Backend``: the same amlocal user code and unmodified training script, run on an Azure
ML workspace through the supported SDK v2 (``azure-ai-ml``).

A thin layer: what a run becomes is ``translate`` (a ``command()`` job), the code it receives is
``_code`` (source + runtime shim), every Azure call is the adapter's (``SdkV2Adapter`` by default,
any ``AzureMLV2Adapter`` through ``backend_options={"adapter": ...}``), run history and models are
``history`` / ``registry``. Options (``backend_options`` or config.json):

* ``adapter``: an AzureMLV2Adapter; default: the one made current by ``fake.mock_azureml_v2()``,
  else the real SDK's (which signs in and fails at once without credentials);
* ``default_compute_target`` (also config.json "default_compute_target"): the cluster of runs
  submitted without ``compute_target``.
"""

import shutil

from amlocal.backend import Backend
from amlocal.exceptions import InvalidArgumentError

from . import _code, _specs, translate
from .errors import sdk_errors
from .history import AzureV2RunHistory, normalise_error
from .registry import AzureV2ModelRegistry

#: Adapters made current by ``fake.mock_azureml_v2()``: used by every workspace that passes none.
ADAPTER_OVERRIDES = []


class AzureMLV2Backend(Backend):
    name = "azureml-v2"
    shares_local_stores = False

    def __init__(self, workspace, adapter=None, default_compute_target=None):
        super().__init__(workspace)
        config = getattr(workspace, "_config", {}) or {}
        if adapter is None and ADAPTER_OVERRIDES:
            adapter = ADAPTER_OVERRIDES[-1]
        if adapter is None:
            from .sdk_adapter import SdkV2Adapter

            adapter = SdkV2Adapter.for_workspace(workspace)
        self.adapter = adapter
        self.default_compute_target = default_compute_target or config.get("default_compute_target")
        self._history = AzureV2RunHistory(adapter, self.name)
        self._registry = AzureV2ModelRegistry(adapter, self._history, workspace.name)

    @classmethod
    def is_available(cls):
        return True

    @property
    def poll_interval(self):
        return self.adapter.poll_interval

    @property
    def run_history(self):
        return self._history

    @property
    def model_registry(self):
        return self._registry

    # -- execution -----------------------------------------------------------------------
    def submit(self, spec):
        spec = _specs.run_spec(spec)
        target = spec.compute_target or self.default_compute_target
        if not target:
            raise InvalidArgumentError(
                "A run on Azure ML needs a compute target: pass compute_target=<an AmlCompute or its name> to the "
                "ScriptRunConfig / SKLearn, or set \"default_compute_target\" in config.json.")
        self.get_compute(target)
        file_inputs = [d for d in spec.data_paths if self._data_path_kind(d) == "file"]
        name = translate.new_job_name(spec.experiment)
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
        with sdk_errors(f"look at datastore {data_path.datastore!r}", datastore=data_path.datastore):
            kind = self.adapter.datastore_path_kind(data_path.datastore, data_path.path_on_datastore)
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
        if raw_error:
            details["error"] = normalise_error(raw_error, self._history.log_tail(run_id))
        return details

    def cancel(self, run_id):
        with sdk_errors("cancel the job", job=run_id):
            self.adapter.cancel(run_id)

    def portal_url(self, run_id):
        with sdk_errors("get the job's studio address", job=run_id):
            return self.adapter.studio_url(run_id)

    def start_interactive_run(self, experiment, snapshot_directory=None):
        with sdk_errors("start logging a run"):
            run_id = self.adapter.start_run(experiment)
        self._history.observe(run_id, "Running")
        return run_id

    def end_interactive_run(self, run_id, status, error=None):
        with sdk_errors("end the run", job=run_id):
            self.adapter.end_run(run_id, status)

    # -- compute targets -----------------------------------------------------------------
    def get_compute(self, name):
        with sdk_errors("get compute", compute=name):
            return self.adapter.get_compute(name)

    def create_compute(self, name, provisioning_configuration):
        subscription = getattr(self.workspace, "subscription_id", None)
        compute = translate.to_aml_compute(name, provisioning_configuration, subscription)
        with sdk_errors("create compute", compute=name, vm_size=compute.size):
            return self.adapter.create_compute(compute)

    def wait_for_compute(self, name, show_output=False, timeout_in_minutes=25):
        with sdk_errors("provision compute", compute=name):
            return self.adapter.wait_for_compute(name, show_output=show_output,
                                                 timeout_in_minutes=timeout_in_minutes)

    # -- datastores ----------------------------------------------------------------------
    def datastore_upload(self, datastore_name, files, overwrite=False, show_progress=True):
        with sdk_errors(f"upload to datastore {datastore_name!r}", datastore=datastore_name):
            return self.adapter.upload_files(datastore_name, [(str(s), n) for s, n in files], overwrite=overwrite,
                                             show_progress=show_progress)

    def datastore_download(self, datastore_name, target_path, prefix=None, overwrite=False, show_progress=True):
        with sdk_errors(f"download from datastore {datastore_name!r}", datastore=datastore_name):
            return self.adapter.download_files(datastore_name, str(target_path), prefix=prefix, overwrite=overwrite,
                                               show_progress=show_progress)

    def datastore_list(self, datastore_name, prefix=None):
        with sdk_errors(f"list datastore {datastore_name!r}", datastore=datastore_name):
            return sorted(self.adapter.list_datastore_files(datastore_name, prefix))
