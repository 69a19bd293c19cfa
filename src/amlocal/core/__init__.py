"""``amlocal.core``: the names of ``azureml.core`` that a training workflow uses."""

from .conda_dependencies import CondaDependencies
from .datastore import Datastore
from .environment import Environment
from .experiment import Experiment
from .model import Model
from .run import Run
from .script_run_config import ScriptRunConfig
from .workspace import Workspace

__all__ = ["CondaDependencies", "Datastore", "Environment", "Experiment", "Model", "Run", "ScriptRunConfig",
           "Workspace"]
