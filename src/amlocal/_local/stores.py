"""The five stores of a local workspace, sharing one database and one directory."""

from dataclasses import dataclass
from pathlib import Path

from .. import _config
from ..rules.names import validate_name
from ..stores import WorkspaceStores
from .compute_targets import LocalComputeTargets
from .database import Database
from .datastores import DirectoryDatastores
from .environments import LocalEnvironments
from .layout import WorkspaceLayout
from .model_registry import LocalModelRegistry
from .run_history import LocalRunHistory


@dataclass(frozen=True)
class LocalStores(WorkspaceStores):
    """WorkspaceStores plus what the local machinery shares: the layout and the database."""
    layout: WorkspaceLayout = None
    database: Database = None


def workspace_root(workspace):
    """The directory of a local workspace: WorkspaceInfo.root when set, else <home>/<name> where
    home is config.json's "amlocal_home", else $AMLOCAL_HOME (default ~/.amlocal)."""
    if workspace.root:
        return Path(workspace.root)
    home = workspace.config.get("amlocal_home") or _config.amlocal_home()
    return Path(home) / validate_name("workspace", workspace.name)


def open_local_stores(workspace):
    layout = WorkspaceLayout(workspace_root(workspace))
    database = Database(layout.database, before_create=layout.ensure_root)
    history = LocalRunHistory(database, layout)
    return LocalStores(run_history=history,
                       model_registry=LocalModelRegistry(database, layout, history),
                       compute_targets=LocalComputeTargets(database, workspace.name),
                       datastores=DirectoryDatastores(layout.datastores),
                       environments=LocalEnvironments(layout),
                       layout=layout, database=database)
