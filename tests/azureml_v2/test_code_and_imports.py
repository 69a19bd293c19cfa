"""The job's code snapshot (source as azure-ai-ml would upload it + the shim), and the plugin's
imports: each module alone, the core without azure-ai-ml, the extra named when it is missing."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from amlocal.exceptions import InvalidArgumentError
from amlocal_azureml_v2 import _code

REPO = Path(__file__).resolve().parents[2]


def test_the_snapshot_holds_what_azure_ai_ml_would_upload_plus_the_shim(tmp_path):
    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "train.py").write_text("print('hi')\n")
    (source / "pkg" / "util.py").write_text("X = 1\n")
    (source / "big.csv").write_text("data\n")
    (source / ".venv").mkdir()
    (source / ".venv" / "lib.py").write_text("")
    (source / ".amlignore").write_text("*.csv\n.venv/\n")
    (source / ".gitignore").write_text("pkg/\n")  # .amlignore wins, as in azure-ai-ml
    (tmp_path / "secret.txt").write_text("outside")
    (source / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (source / "alias.py").symlink_to(source / "train.py")
    staged, skipped = _code.stage(source, parent=tmp_path)
    files = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
    assert [f for f in files if not f.startswith("_amlocal_shim/")] == ["alias.py", "pkg/util.py", "train.py"]
    assert {"_amlocal_shim/azureml/__init__.py", "_amlocal_shim/azureml/core/run.py",
            "_amlocal_shim/azureml/core/_mlflow_sink.py"} <= set(files)
    assert skipped == ["leak.txt"]
    assert not any(p.is_symlink() for p in staged.rglob("*"))


def test_a_source_that_already_has_the_shim_folder_is_refused(tmp_path):
    (tmp_path / "_amlocal_shim").mkdir()
    with pytest.raises(InvalidArgumentError, match="rename it"):
        _code.stage(tmp_path)


def test_the_staged_command_imports_the_shim_in_a_shell(tmp_path):
    """The command line translate builds, run by bash in the snapshot: the script's
    ``from azureml.core.run import Run`` is the shim, also from a subfolder script."""
    from amlocal_azureml_v2 import translate

    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "job.py").write_text("import azureml.core.run as r; print(r.__file__)\n")
    staged, _ = _code.stage(source, parent=tmp_path)
    command = translate.command_line("sub/job.py", [], {})
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    proc = subprocess.run(["bash", "-c", command], cwd=staged, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(staged / "_amlocal_shim" / "azureml" / "core" / "run.py")


WITHOUT_AZURE_AI_ML = textwrap.dedent("""
    import sys
    class _NoAzureAiMl:
        def find_spec(self, name, path=None, target=None):
            if name == "azure.ai.ml" or name.startswith("azure.ai.ml."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, _NoAzureAiMl())
""")


def run_python(code, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMLOCAL_")}
    env["AMLOCAL_HOME"] = str(Path(cwd) / "home")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO / "backends")])
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(cwd), env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_the_core_never_imports_azure_ai_ml(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"subscription_id": "s", "resource_group": "r",
                                                      "workspace_name": "w"}))
    out = run_python(textwrap.dedent("""
        import sys
        import amlocal, amlocal.core, amlocal.train.sklearn, amlocal.execution, amlocal.stores, amlocal.specs
        from amlocal.core import Workspace
        Workspace.from_config(backend="process").backend
        print(sorted(n for n in sys.modules if n.startswith(("azure.ai.ml", "mlflow"))))
    """), tmp_path)
    assert out.strip() == "[]"


def test_without_the_extra_choosing_azureml_v2_names_it(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"subscription_id": "s", "resource_group": "r",
                                                      "workspace_name": "w"}))
    out = run_python(WITHOUT_AZURE_AI_ML + textwrap.dedent("""
        from amlocal.core import Workspace
        from amlocal.exceptions import BackendUnavailableError
        try:
            Workspace.from_config(backend="azureml-v2")
        except BackendUnavailableError as err:
            print("unavailable:", err)
    """), tmp_path)
    assert out.startswith("unavailable: The 'azureml-v2' backend cannot be loaded")
    assert "pip install 'amlocal[azure-v2]'" in out


def test_each_module_of_the_plugin_imports_alone(tmp_path):
    for module in ("amlocal_azureml_v2", "amlocal_azureml_v2.fake", "amlocal_azureml_v2.sdk_adapter",
                   "amlocal_azureml_v2.translate", "amlocal_azureml_v2.auth", "amlocal_azureml_v2.errors",
                   "amlocal_azureml_v2.metrics", "amlocal_azureml_v2.azureml_v2_backend",
                   "amlocal_azureml_v2.stores", "amlocal_azureml_v2.history", "amlocal_azureml_v2.registry"):
        run_python(f"import {module}", tmp_path)


def test_the_entry_point_names_the_backend(tmp_path):
    out = run_python(textwrap.dedent("""
        from amlocal._plugins import get_backend_class, known_backends
        print(known_backends()["azureml-v2"], get_backend_class("azureml-v2").__name__)
    """), tmp_path)
    assert out.split() == ["amlocal_azureml_v2:AzureMLV2Backend", "AzureMLV2Backend"]
