"""The backend contract: the same user flow, run on every backend. Each backend opts in by
giving a workspace here (docker and process on this machine; azureml through its fake adapter,
or a real workspace in live mode)."""

import importlib.util
from pathlib import Path

import pytest

from amlocal.core import Workspace

BACKENDS = ["docker", "process", "azureml"]


def _azureml_fixtures():
    path = Path(__file__).resolve().parents[1] / "azureml" / "fixtures.py"
    spec = importlib.util.spec_from_file_location("amlocal_tests_azureml_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def azureml_fake_workspace(tmp_path, config_dir):
    """A workspace on the azureml backend: its fake, or a real one in live mode."""
    return _azureml_fixtures().make_azureml_workspace(tmp_path, config_dir)


@pytest.fixture(params=BACKENDS)
def ws(request, project, tmp_path):
    name = request.param
    if name == "docker":
        request.getfixturevalue("base_image")
        return Workspace.from_config(backend="docker")
    if name == "process":
        return Workspace.from_config(backend="process")
    return azureml_fake_workspace(tmp_path, project)
