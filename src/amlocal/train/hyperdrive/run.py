"""``azureml.train.hyperdrive.run``: PrimaryMetricGoal, and HyperDriveRun, the parent run of a
sweep (``experiment.submit(HyperDriveConfig(...))`` returns one).

A sweep's children are ordinary runs whose parent is the sweep; each child's parameters are
kept in the parent's tags as azureml keeps them (``_aml_system_<parent id>_<n>`` = JSON), and
the best child so far in the parent's ``best_child_by_primary_metric`` table.
"""

import json

from ...core.run import Run
from ...exceptions import HyperDriveNotImplementedException
from ...rules import statuses
from ...sweeps import child_order
from ._goal import PrimaryMetricGoal

__all__ = ["HyperDriveRun", "PrimaryMetricGoal"]

_SYSTEM = "_aml_system_"


class HyperDriveRun(Run):
    """The parent run of a HyperDrive sweep."""

    RUN_TYPE = "hyperdrive"
    HYPER_DRIVE_RUN_USER_AGENT = "sdk_run_hyper_drive"

    def __init__(self, experiment, run_id, hyperdrive_config=None, **kwargs):
        super().__init__(experiment, run_id)
        self._hyperdrive_config = hyperdrive_config

    @property
    def hyperdrive_config(self):
        """The sweep's HyperDriveConfig (rebuilt from the run's record when this object did not
        submit it: then it has no trial run_config, as in azureml)."""
        if self._hyperdrive_config is None:
            from .runconfig import DICT_VERSION, HyperDriveConfig

            tags = self.get_tags()
            self._hyperdrive_config = HyperDriveConfig.from_dict({
                "version": DICT_VERSION,
                "sampling": json.loads(tags[f"{_SYSTEM}generator_config"]),
                "policy": json.loads(tags[f"{_SYSTEM}policy_config"]),
                "primary_metric": json.loads(tags[f"{_SYSTEM}primary_metric_config"]),
                "max_total_runs": int(tags[f"{_SYSTEM}max_total_jobs"]),
                "max_concurrent_runs": int(tags[f"{_SYSTEM}max_concurrent_jobs"]),
                "max_duration_minutes": int(tags[f"{_SYSTEM}max_duration_minutes"]),
            })
        return self._hyperdrive_config

    def cancel(self):
        """Cancel the sweep and every child that has not ended. Returns True."""
        super().cancel()
        return True

    def fail(self):
        raise HyperDriveNotImplementedException("fail() is not supported for a HyperDriveRun (as in azureml); "
                                                "cancel() the sweep instead.")

    def get_diagnostics(self):
        raise HyperDriveNotImplementedException("get_diagnostics() is not supported for a HyperDriveRun (as in azureml).")

    def get_hyperparameters(self):
        """{child run id: the child's parameters as a JSON string}."""
        prefix = f"{_SYSTEM}{self.id}_"
        return {key[len(_SYSTEM):]: value for key, value in self.get_tags().items()
                if key.startswith(prefix) and key[len(prefix):].isdigit()}

    def get_metrics(self):
        """{child run id: its metrics} of every child."""
        return {child.id: child.get_metrics() for child in self.get_children()}

    def get_children_sorted_by_primary_metric(self, top=0, reverse=False, discard_no_metric=False):
        """Children as dicts (run_id, hyperparameters, best_primary_metric, status), best first
        by the primary metric and its goal (``reverse`` turns that order around); children
        without the metric come last, or not at all with ``discard_no_metric``."""
        assert isinstance(top, int) and top >= 0, "Value of parameter top should be 0 or a positive integer"
        assert isinstance(reverse, bool), "Type of parameter reverse should be bool"
        assert isinstance(discard_no_metric, bool), "Type of parameter discard_no_metric should be bool"
        config = self.hyperdrive_config._primary_metric_config
        name, maximize = config["name"], config["goal"] == PrimaryMetricGoal.MAXIMIZE.value.lower()
        hyperparameters = self.get_hyperparameters()
        with_metric, without = [], []
        for child in sorted(self.get_children(), key=lambda run: child_order(run.id)):
            values = child.get_metrics(name).get(name)
            if isinstance(values, list):
                numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
                best = (max if maximize else min)(numbers) if numbers else None
            else:
                best = values
            entry = {"run_id": child.id, "hyperparameters": hyperparameters.get(child.id),
                     "best_primary_metric": best, "status": child.get_status()}
            (with_metric if best is not None else without).append(entry)
        # a stable sort: on a tie the earlier child comes first (as the sweep's "best so far" says)
        ordered = sorted(with_metric, key=lambda entry: entry["best_primary_metric"], reverse=(maximize != reverse))
        if not discard_no_metric:
            ordered += without
        return ordered if top == 0 else ordered[:top]

    def get_best_run_by_primary_metric(self, include_failed=True, include_canceled=True,
                                       include_resume_from_runs=True):
        """The child with the best primary metric (the parent's goal), or None when no child
        logged it. Failed / canceled children count unless excluded."""
        for child in self.get_children_sorted_by_primary_metric(discard_no_metric=True):
            if (child["status"] == statuses.FAILED and not include_failed) or \
                    (child["status"] == statuses.CANCELED and not include_canceled):
                continue
            return Run(self.experiment, child["run_id"])
        return None

    def __repr__(self):
        return f"Run(Experiment: {self.experiment.name}, Id: {self.id}, Type: hyperdrive, Status: {self.get_status()})"
