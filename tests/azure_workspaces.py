"""Workspaces on the Azure backends for tests: their fakes, or real workspaces in live mode
(tests/azureml/fixtures.py and tests/azureml_v2/fixtures.py say how)."""

import importlib.util
import sys
from pathlib import Path


def _fixtures(folder):
    """tests/<folder>/fixtures.py, loaded once under a name of its own."""
    name = f"amlocal_tests_{folder}_fixtures"
    if name not in sys.modules:
        path = Path(__file__).resolve().parent / folder / "fixtures.py"
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
