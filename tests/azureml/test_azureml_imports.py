"""The core never imports azureml; without the ``azure`` extra, choosing azureml says what to
install. Each check runs in a fresh interpreter, so nothing imported by other tests hides a cycle."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Makes "azureml" (and everything under it) unimportable, as when the azure extra is not installed.
WITHOUT_AZUREML = textwrap.dedent("""
    import sys
    class _NoAzureml:
        def find_spec(self, name, path=None, target=None):
            if name == "azureml" or name.startswith("azureml."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, _NoAzureml())
""")


def run_python(code, cwd, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMLOCAL_")}
    env["AMLOCAL_HOME"] = str(tmp_path / "home")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO / "backends")])
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(cwd), env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_the_core_api_never_imports_azureml(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"subscription_id": "s", "resource_group": "r",
                                                      "workspace_name": "w"}))
    out = run_python(textwrap.dedent("""
        import sys
        import amlocal, amlocal.core, amlocal.core.compute, amlocal.core.compute_target, amlocal.train.sklearn
        import amlocal.exceptions, amlocal.execution, amlocal.stores, amlocal.specs
        from amlocal.core import Workspace
        ws = Workspace.from_config(backend="process")
        ws.backend, ws.run_history, ws.model_registry
        print(sorted(name for name in sys.modules if name == "azureml" or name.startswith("azureml.")))
    """), tmp_path, tmp_path)
    assert out.strip() == "[]"


def test_without_the_extra_the_core_works_and_azureml_says_which_extra(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"subscription_id": "s", "resource_group": "r",
                                                      "workspace_name": "w"}))
    out = run_python(WITHOUT_AZUREML + textwrap.dedent("""
        from amlocal.core import Workspace, Experiment
        from amlocal.exceptions import BackendUnavailableError
        Workspace.from_config(backend="process").backend
        try:
            Workspace.from_config(backend="azureml")
        except BackendUnavailableError as err:
            print("unavailable:", err)
        else:
            print("NO ERROR")
    """), tmp_path, tmp_path)
    assert out.startswith("unavailable: The 'azureml' backend cannot be loaded")
    assert "pip install 'amlocal[azure]'" in out


def test_the_package_import_itself_checks_for_azureml_core(tmp_path):
    out = run_python(WITHOUT_AZUREML + textwrap.dedent("""
        try:
            import amlocal_azureml
        except ImportError as err:
            print(err)
    """), tmp_path, tmp_path)
    assert "needs azureml-core" in out and "pip install 'amlocal[azure]'" in out


def test_each_module_of_the_plugin_imports_alone(tmp_path):
    for module in ("amlocal_azureml", "amlocal_azureml.fake", "amlocal_azureml.sdk_adapter",
                   "amlocal_azureml.translate", "amlocal_azureml.auth", "amlocal_azureml.errors",
                   "amlocal_azureml.timeouts", "amlocal_azureml.datastore_access", "amlocal_azureml._fake_image",
                   "amlocal_process.virtualenvs"):
        run_python(f"import {module}", tmp_path, tmp_path)


def test_the_entry_point_names_the_backend(tmp_path):
    out = run_python(textwrap.dedent("""
        from amlocal._plugins import get_backend_class, known_backends
        print(known_backends()["azureml"], get_backend_class("azureml").__name__)
    """), tmp_path, tmp_path)
    assert out.split() == ["amlocal_azureml:AzureMLBackend", "AzureMLBackend"]
