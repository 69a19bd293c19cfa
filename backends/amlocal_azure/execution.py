"""What both Azure ML execution backends do alike around the SDK's own calls.

``AzureExecutionBackend`` is their base: every Azure call goes through the adapter of the
workspace's stores (``stores.adapter``), a run needs a cluster (its own compute target, else
config.json's "default_compute_target": Azure ML runs nothing on this machine), its data must be
on the datastore before it is submitted, and ``details`` completes a run's details the way the
local backends show them (status timeline, tags, amlocal's error with the log's tail).
"""

from amlocal.exceptions import InvalidArgumentError
from amlocal.execution import ExecutionBackend

from .run_history import normalise_error


def missing_data_path(data_path):
    return InvalidArgumentError(
        f"Datastore path {data_path.datastore}/{data_path.path_on_datastore} does not exist. "
        "Upload the data first (ds.upload(src_dir=..., target_path=...)).")


class AzureExecutionBackend(ExecutionBackend):
    def __init__(self, workspace, stores, adapter=None, default_compute_target=None, auth=None):
        super().__init__(workspace, stores)
        self.adapter = stores.adapter
        self.poll_interval = self.adapter.poll_interval
        self.default_compute_target = default_compute_target or workspace.config.get("default_compute_target")

    def compute_target(self, spec):
        """The cluster ``spec`` runs on, checked to exist (ComputeTargetException when it does not)."""
        target = spec.compute_target or self.default_compute_target
        if not target:
            raise InvalidArgumentError(
                "A run on Azure ML needs a compute target: pass compute_target=<an AmlCompute or its name> to the "
                "ScriptRunConfig / SKLearn, or set \"default_compute_target\" in config.json.")
        self.stores.compute_targets.get(target)
        return target

    def details(self, run_id, details, raw_error):
        """``details`` (the adapter's, without its error) with the run's status timeline, its tags
        and, when ``raw_error`` (Azure's error) is there, amlocal's error with the log's tail."""
        history = self.stores.run_history
        details["statusTimeline"] = history.status_timeline(run_id)
        details["tags"] = history.get_tags(run_id)
        if raw_error:
            details["error"] = normalise_error(raw_error, history.log_tail(run_id))
        return details
