"""The backend contract: the same user flow, run on every backend. Each backend opts in by
giving a workspace here (docker and process on this machine; azureml and azureml-v2 through
their fake adapters, or a real workspace in live mode)."""

import importlib.util
import sys
from pathlib import Path

import pytest

from amlocal.core import Workspace

#: azure-ai-ml's own deprecation chatter with the marshmallow it resolves with, not ours
AZURE_AI_ML_NOISE = [pytest.mark.filterwarnings("ignore::marshmallow.warnings.ChangedInMarshmallow4Warning"),
                     pytest.mark.filterwarnings("ignore::marshmallow.warnings.RemovedInMarshmallow4Warning")]
BACKENDS = ["docker", "process", "azureml", pytest.param("azureml-v2", marks=AZURE_AI_ML_NOISE)]


def _fixtures(folder):
    """tests/<folder>/fixtures.py, loaded once under a name of its own."""
    name = f"amlocal_tests_{folder}_fixtures"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / folder / "fixtures.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def azureml_fake_workspace(tmp_path, config_dir):
    """A workspace on the azureml backend: its fake, or a real one in live mode."""
    return _fixtures("azureml").make_azureml_workspace(tmp_path, config_dir)


def azureml_v2_fake_workspace(tmp_path, config_dir):
    """A workspace on the azureml-v2 backend: its fake, or a real one in live mode."""
    return _fixtures("azureml_v2").make_azureml_v2_workspace(tmp_path, config_dir)


@pytest.fixture(params=BACKENDS)
def ws(request, project, tmp_path):
    name = request.param
    if name == "docker":
        request.getfixturevalue("base_image")
        return Workspace.from_config(backend="docker")
    if name == "process":
        return Workspace.from_config(backend="process")
    if name == "azureml-v2":
        return azureml_v2_fake_workspace(tmp_path, project)
    return azureml_fake_workspace(tmp_path, project)
