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
from amlocal.rules.statuses import AMLCOMPUTE_ORDER
from amlocal.snapshot import check_snapshot
from amlocal_azure.execution import AzureExecutionBackend, missing_data_path

from . import translate
from .errors import sdk_errors
from .stores import open_azure_stores


class AzureMLBackend(AzureExecutionBackend):
    name = "azureml"
    status_order = AMLCOMPUTE_ORDER

    @classmethod
    def open_stores(cls, workspace, adapter=None, auth=None, **options):
        return open_azure_stores(workspace, adapter, auth)

    def submit(self, spec):
        target = self.compute_target(spec)
        for data_path in spec.data_paths:
            if not self.stores.datastores.exists(data_path.datastore, data_path.path_on_datastore):
                raise missing_data_path(data_path)
        check_snapshot(spec.source_directory)  # as the SDK checks it when it submits: the same rule, the same error
        config = translate.to_script_run_config(spec, target, self._datastore, self._curated_environment)
        with sdk_errors("submit the run", compute=target):
            return self.adapter.submit(spec.experiment, config, tags=dict(spec.tags or {}), run_id=spec.run_id,
                                       parent_run_id=spec.parent_run_id)

    def submit_sweep(self, sweep):
        """The sweep as a real HyperDrive run: the trial translated as any run is, the sampling,
        policy, primary metric and limits as azureml's own HyperDriveConfig."""
        trial = sweep.trial
        if not (trial.compute_target or self.default_compute_target):
            raise InvalidArgumentError(
                "A HyperDrive sweep on Azure ML needs a compute target for its children: pass compute_target= to the "
                "trial's ScriptRunConfig / SKLearn, or set \"default_compute_target\" in config.json.")
        target = self.compute_target(trial)
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
        with sdk_errors("get the run's details", run_id=run_id):
            details = dict(self.adapter.get_details(run_id))
        return self.details(run_id, details, details.pop("error", None))

    def cancel(self, run_id, reason=None):
        with sdk_errors("cancel the run", run_id=run_id):
            self.adapter.cancel(run_id, reason=reason)

    def portal_url(self, run_id):
        with sdk_errors("get the run's portal address", run_id=run_id):
            return self.adapter.portal_url(run_id)
