"""Each Azure backend loads and works without the other's SDK, and their shared package without
either: each check runs in a fresh interpreter where the SDK that must not be needed cannot be
imported (as when its extra is not installed)."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SHARED_MODULES = ("amlocal_azure", "amlocal_azure.times", "amlocal_azure.paths", "amlocal_azure.credentials",
                  "amlocal_azure.timeouts", "amlocal_azure.errors", "amlocal_azure.run_history",
                  "amlocal_azure.registry", "amlocal_azure.stores", "amlocal_azure.execution", "amlocal_azure.sdk", "amlocal_azure.fake_jobs",
                  "amlocal_azure.fake_assets")
V1_MODULES = ("amlocal_azureml", "amlocal_azureml.fake", "amlocal_azureml.sdk_adapter", "amlocal_azureml.stores",
              "amlocal_azureml.history", "amlocal_azureml.registry", "amlocal_azureml.auth", "amlocal_azureml.errors")
V2_MODULES = ("amlocal_azureml_v2", "amlocal_azureml_v2.fake", "amlocal_azureml_v2.sdk_adapter",
              "amlocal_azureml_v2.stores", "amlocal_azureml_v2.history", "amlocal_azureml_v2.registry",
              "amlocal_azureml_v2.auth", "amlocal_azureml_v2.errors", "amlocal_azureml_v2.metrics")

#: What each SDK's extra installs, as import names: "azure" is azureml-core (all of ``azureml``
#: but azureml-mlflow's ``azureml.mlflow``, which "azure-v2" installs); "azure-v2" is azure-ai-ml
#: and azure-identity.
SDK_V1 = ("azureml",)
SDK_V1_KEEPS = ("azureml.mlflow",)
SDK_V2 = ("azure.ai.ml", "azure.identity")


def hiding(prefixes, keeping=()):
    """Code that makes every module named by ``prefixes`` (or below them) unimportable, except
    ``keeping`` and what is below it; the bare namespace ``azureml`` stays when something under it is kept."""
    return textwrap.dedent(f"""
        import sys
        class _Hidden:
            def find_spec(self, name, path=None, target=None):
                kept = any(name == k or name.startswith(k + ".") or k.startswith(name + ".") for k in {keeping!r})
                if not kept and any(name == p or name.startswith(p + ".") for p in {prefixes!r}):
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None
        sys.meta_path.insert(0, _Hidden())
    """)


def run_python(code, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMLOCAL_", "AZURE_"))}
    env.update(AMLOCAL_HOME=str(tmp_path / "home"), AZURE_CONFIG_DIR=str(tmp_path / "no-cli"),
               PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO / "backends")]))
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def loaded(prefixes):
    return f"sorted(n for n in sys.modules if any(n == p or n.startswith(p + '.') for p in {prefixes!r}))"


def test_the_shared_package_needs_neither_sdk_and_imports_none(tmp_path):
    out = run_python(hiding(SDK_V1 + SDK_V2 + ("mlflow",)) + textwrap.dedent(f"""
        import importlib, json
        for module in {SHARED_MODULES!r}:
            importlib.import_module(module)
        print(json.dumps({loaded(SDK_V1 + SDK_V2 + ("azure", "mlflow"))}))
    """), tmp_path)
    assert out == []


def test_without_either_sdk_both_backends_say_which_extra(tmp_path):
    out = run_python(hiding(SDK_V1 + SDK_V2) + textwrap.dedent("""
        import json
        said = []
        for package in ("amlocal_azureml", "amlocal_azureml_v2"):
            try:
                __import__(package)
            except ImportError as err:
                said.append(str(err))
        print(json.dumps(said))
    """), tmp_path)
    assert out == ["the azureml backend needs azureml-core, which is not installed; install it with: "
                   "pip install 'amlocal[azure]'",
                   "the azureml-v2 backend needs azure-ai-ml, which is not installed; install it with: "
                   "pip install 'amlocal[azure-v2]'"]


@pytest.mark.parametrize("sdk, hidden, keeping, modules, fake, backend", [
    ("v1", SDK_V2, (), V1_MODULES, "amlocal_azureml.fake:FakeAzureAdapter", "azureml"),
    ("v2", SDK_V1, SDK_V1_KEEPS, V2_MODULES, "amlocal_azureml_v2.fake:FakeV2Adapter", "azureml-v2"),
])
def test_each_backend_works_without_the_other_sdk(tmp_path, sdk, hidden, keeping, modules, fake, backend):
    pytest.importorskip("azureml.core" if sdk == "v1" else "azure.ai.ml")
    (tmp_path / "config.json").write_text(json.dumps({"subscription_id": "s", "resource_group": "r",
                                                      "workspace_name": "w"}))
    module, _, name = fake.partition(":")
    out = run_python(hiding(hidden, keeping) + textwrap.dedent(f"""
        import importlib, json
        for module in {modules!r}:
            importlib.import_module(module)
        from amlocal.core import Workspace
        from amlocal.core.compute import ComputeTarget
        fake = getattr(importlib.import_module({module!r}), {name!r})(root="fake")
        fake.add_cluster("cpu-cluster")
        ws = Workspace.from_config(backend={backend!r}, backend_options={{"adapter": fake}})
        found = [ComputeTarget(ws, "cpu-cluster").name, sorted(ws.datastores)[:1]]
        fake.close()
        print(json.dumps([found, {loaded(hidden)}]))
    """), tmp_path)
    assert out[0] == ["cpu-cluster", ["workspaceblobstore"]]
    assert [name for name in out[1] if not name.startswith(keeping or ("-",))] == []
