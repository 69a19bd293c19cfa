"""``AzureMLBackend``: the same user code, run on real Azure ML (SDK v1) AmlCompute.

A run is translated (``translate``) into a real ScriptRunConfig whose Environment carries the
packages and pins the local backends install, and submitted to an AmlCompute cluster; run
history, the model registry and datastores are the workspace's own. Everything Azure-facing
goes through one ``AzureAdapter``: the real SDK (``SdkAzureAdapter``, the default, which signs
in and fails at once without credentials) or any other passed as ``backend_options``::

    Workspace.from_config(backend="azureml", backend_options={"adapter": FakeAzureAdapter()})

Options (``backend_options`` or config.json):

* ``adapter``: an AzureAdapter; default: the one made current by ``fake.mock_azureml()``, else
  the real SDK's;
* ``default_compute_target`` (also config.json "default_compute_target"): the cluster of runs
  submitted without ``compute_target`` (Azure ML runs need one; amlocal never runs an
  ``azureml`` run on this machine).
"""

from amlocal.backend import Backend
from amlocal.core.datastore import DataReference
from amlocal.exceptions import InvalidArgumentError

from . import translate
from .errors import sdk_errors
from .history import AzureRunHistory, normalise_error
from .registry import AzureModelRegistry

#: Adapters made current by ``fake.mock_azureml()``: used by every workspace that passes none.
ADAPTER_OVERRIDES = []


class AzureMLBackend(Backend):
    name = "azureml"
    shares_local_stores = False

    def __init__(self, workspace, adapter=None, default_compute_target=None):
        super().__init__(workspace)
        config = getattr(workspace, "_config", {}) or {}
        if adapter is None and ADAPTER_OVERRIDES:
            adapter = ADAPTER_OVERRIDES[-1]
        if adapter is None:
            from .sdk_adapter import SdkAzureAdapter

            adapter = SdkAzureAdapter.for_workspace(workspace)
        self.adapter = adapter
        self.default_compute_target = default_compute_target or config.get("default_compute_target")
        self._history = AzureRunHistory(adapter, self.name)
        self._registry = AzureModelRegistry(adapter, self._history, workspace.name)

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
        target = spec.compute_target or self.default_compute_target
        if not target:
            raise InvalidArgumentError(
                "A run on Azure ML needs a compute target: pass compute_target=<an AmlCompute or its name> to the "
                "ScriptRunConfig / SKLearn, or set \"default_compute_target\" in config.json.")
        self.get_compute(target)
        for argument in spec.arguments:
            if isinstance(argument, DataReference):
                self._check_data_reference(argument)
        config = translate.to_script_run_config(spec, target, self._datastore)
        with sdk_errors("submit the run", compute=target):
            return self.adapter.submit(spec.experiment, config, tags=dict(spec.tags or {}))

    def _datastore(self, name):
        with sdk_errors(f"get datastore {name!r}"):
            return self.adapter.get_datastore(name)

    def _check_data_reference(self, reference):
        path = reference.path_on_datastore or ""
        with sdk_errors(f"look at datastore {reference.datastore.name!r}"):
            exists = self.adapter.datastore_path_exists(reference.datastore.name, path)
        if not exists:
            raise InvalidArgumentError(
                f"Datastore path {reference.datastore.name}/{path} does not exist. "
                "Upload the data first (ds.upload(src_dir=..., target_path=...)).")

    def get_status(self, run_id):
        with sdk_errors("get the run's status", run_id=run_id):
            return self.adapter.get_status(run_id)

    def get_details(self, run_id):
        with sdk_errors("get the run's details", run_id=run_id):
            details = dict(self.adapter.get_details(run_id))
        details["statusTimeline"] = self._history.status_timeline(run_id)
        details["tags"] = self._history.get_tags(run_id)
        raw_error = details.pop("error", None)
        if raw_error:
            details["error"] = normalise_error(raw_error, self._history.log_tail(run_id))
        return details

    def cancel(self, run_id):
        with sdk_errors("cancel the run", run_id=run_id):
            self.adapter.cancel(run_id)

    def portal_url(self, run_id):
        with sdk_errors("get the run's portal address", run_id=run_id):
            return self.adapter.portal_url(run_id)

    def start_interactive_run(self, experiment, snapshot_directory=None):
        with sdk_errors("start logging a run"):
            return self.adapter.start_logging(experiment, snapshot_directory)

    def end_interactive_run(self, run_id, status, error=None):
        with sdk_errors("end the run", run_id=run_id):
            self.adapter.end_run(run_id, status, error)

    # -- compute targets -----------------------------------------------------------------
    def get_compute(self, name):
        with sdk_errors("get compute", compute=name):
            return self.adapter.get_compute(name)

    def create_compute(self, name, provisioning_configuration):
        config = translate.to_provisioning_configuration(provisioning_configuration)
        with sdk_errors("create compute", compute=name, vm_size=provisioning_configuration.vm_size):
            return self.adapter.create_compute(name, config)

    def wait_for_compute(self, name, show_output=False, timeout_in_minutes=25):
        with sdk_errors("provision compute", compute=name):
            return self.adapter.wait_for_compute(name, show_output=show_output,
                                                 timeout_in_minutes=timeout_in_minutes)

    # -- datastores ----------------------------------------------------------------------
    def datastore_upload(self, datastore_name, files, overwrite=False, show_progress=True):
        with sdk_errors(f"upload to datastore {datastore_name!r}"):
            return self.adapter.upload_files(datastore_name, [(str(s), n) for s, n in files], overwrite=overwrite,
                                             show_progress=show_progress)

    def datastore_download(self, datastore_name, target_path, prefix=None, overwrite=False, show_progress=True):
        with sdk_errors(f"download from datastore {datastore_name!r}"):
            return self.adapter.download_files(datastore_name, str(target_path), prefix=prefix, overwrite=overwrite,
                                               show_progress=show_progress)

    def datastore_list(self, datastore_name, prefix=None):
        with sdk_errors(f"list datastore {datastore_name!r}"):
            return sorted(self.adapter.list_datastore_files(datastore_name, prefix))

