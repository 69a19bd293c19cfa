"""What a workspace keeps, as five interfaces, separate from running jobs.

    RunHistory       runs: statuses, metrics, tags, files and logs       (run_history)
    ModelRegistry    versioned models                                   (model_registry)
    ComputeTargets   named clusters: VM size and node count             (compute_targets)
    Datastores       named stores of files that jobs read               (datastores)
    EnvironmentStore registered (and curated) environments              (environments)

A workspace gets all five from its backend's ``open_stores`` (``amlocal.execution``): the
local backends share one SQLite-and-files implementation (``amlocal._local``), the Azure
backends have their own. Reading runs never needs the execution engine.
"""

from dataclasses import dataclass

from .compute_targets import ComputeTargets
from .datastores import Datastores
from .environments import EnvironmentStore
from .model_registry import ModelRecord, ModelRegistry
from .run_history import RunHistory

__all__ = ["ComputeTargets", "Datastores", "EnvironmentStore", "ModelRecord", "ModelRegistry", "RunHistory",
           "WorkspaceStores"]


@dataclass(frozen=True)
class WorkspaceStores:
    run_history: RunHistory
    model_registry: ModelRegistry
    compute_targets: ComputeTargets
    datastores: Datastores
    environments: EnvironmentStore
