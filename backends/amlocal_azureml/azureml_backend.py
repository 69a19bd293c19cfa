"""``AzureMLBackend``: the same user code, run on real Azure ML (SDK v1) AmlCompute.

A run is translated (``translate``) into a real ScriptRunConfig whose Environment carries the
packages and pins the local backends install, and submitted to an AmlCompute cluster; run
history, the model registry, compute targets, datastores and environments are the workspace's
own (``stores``). Everything Azure-facing goes through one ``AzureAdapter``: the real SDK
(``SdkAzureAdapter``, the default, which signs in and fails at once without credentials) or any
other passed as ``backend_options``::

    Workspace.from_config(backend="azureml", backend_options={"adapter": FakeAzureAdapter()})

Options (``backend_options`` or config.json):

* ``adapter``: an AzureAdapter; default: the one made current by ``fake.mock_azureml()``, else
  the real SDK's;
* ``default_compute_target`` (also config.json "default_compute_target"): the cluster of runs
  submitted without ``compute_target`` (Azure ML runs need one; amlocal never runs an
  ``azureml`` run on this machine).
"""

from amlocal.exceptions import InvalidArgumentError
from amlocal.execution import ExecutionBackend
from amlocal.rules.statuses import AMLCOMPUTE_ORDER
from amlocal.snapshot import check_snapshot

from . import translate
from .errors import sdk_errors
from .history import normalise_error
from .stores import open_azure_stores


class AzureMLBackend(ExecutionBackend):
    name = "azureml"
    status_order = AMLCOMPUTE_ORDER

    def __init__(self, workspace, stores, adapter=None, default_compute_target=None, auth=None):
        super().__init__(workspace, stores)
        self.adapter = stores.adapter
        self.poll_interval = self.adapter.poll_interval
        self.default_compute_target = default_compute_target or workspace.config.get("default_compute_target")

    @classmethod
    def open_stores(cls, workspace, adapter=None, auth=None, **options):
        return open_azure_stores(workspace, adapter, auth)

    def submit(self, spec):
        target = spec.compute_target or self.default_compute_target
        if not target:
            raise InvalidArgumentError(
                "A run on Azure ML needs a compute target: pass compute_target=<an AmlCompute or its name> to the "
                "ScriptRunConfig / SKLearn, or set \"default_compute_target\" in config.json.")
        self.stores.compute_targets.get(target)
        for data_path in spec.data_paths:
            if not self.stores.datastores.exists(data_path.datastore, data_path.path_on_datastore):
                raise InvalidArgumentError(
                    f"Datastore path {data_path.datastore}/{data_path.path_on_datastore} does not exist. "
                    "Upload the data first (ds.upload(src_dir=..., target_path=...)).")
        check_snapshot(spec.source_directory)  # as the SDK checks it when it submits: the same rule, the same error
        config = translate.to_script_run_config(spec, target, self._datastore, self._curated_environment)
        with sdk_errors("submit the run", compute=target):
            return self.adapter.submit(spec.experiment, config, tags=dict(spec.tags or {}), run_id=spec.run_id,
                                       parent_run_id=spec.parent_run_id)

    def submit_sweep(self, sweep):
        """The sweep as a real HyperDrive run: the trial translated as any run is, the sampling,
        policy, primary metric and limits as azureml's own HyperDriveConfig."""
        trial = sweep.trial
        target = trial.compute_target or self.default_compute_target
        if not target:
            raise InvalidArgumentError(
                "A HyperDrive sweep on Azure ML needs a compute target for its children: pass compute_target= to the "
                "trial's ScriptRunConfig / SKLearn, or set \"default_compute_target\" in config.json.")
        self.stores.compute_targets.get(target)
        check_snapshot(trial.source_directory)
        trial_config = translate.to_script_run_config(trial, target, self._datastore, self._curated_environment)
        config = translate.to_hyperdrive_config(sweep, trial_config)
        with sdk_errors("submit the HyperDrive sweep", compute=target):
            return self.adapter.submit_hyperdrive(sweep.experiment, config, tags=dict(sweep.tags or {}), sweep=sweep,
                                                  backend=self)

    def _datastore(self, name):
        with sdk_errors(f"get datastore {name!r}"):
            return self.adapter.get_datastore(name)

    def _curated_environment(self, name):
        with sdk_errors(f"get environment {name!r}"):
            return self.adapter.get_sdk_environment(name)

    def get_status(self, run_id):
        with sdk_errors("get the run's status", run_id=run_id):
            return self.adapter.get_status(run_id)

    def get_details(self, run_id):
        history = self.stores.run_history
        with sdk_errors("get the run's details", run_id=run_id):
            details = dict(self.adapter.get_details(run_id))
        details["statusTimeline"] = history.status_timeline(run_id)
        details["tags"] = history.get_tags(run_id)
        raw_error = details.pop("error", None)
        if raw_error:
            details["error"] = normalise_error(raw_error, history.log_tail(run_id))
        return details

    def cancel(self, run_id, reason=None):
        with sdk_errors("cancel the run", run_id=run_id):
            self.adapter.cancel(run_id, reason=reason)

    def portal_url(self, run_id):
        with sdk_errors("get the run's portal address", run_id=run_id):
            return self.adapter.portal_url(run_id)
