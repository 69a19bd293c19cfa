"""Fixtures of the azureml-v2 backend tests (the network guard that keeps every test offline is in
tests/conftest.py)."""

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IRIS_DATA = REPO / "examples" / "iris" / "data" / "iris"


def _load_fixtures():
    """tests/azureml_v2/fixtures.py under a name no other test folder can take."""
    name = "amlocal_tests_azureml_v2_fixtures"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / "fixtures.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


v2_fixtures = _load_fixtures()
DEFAULT_CLUSTER, FAKE_IDENTITY = v2_fixtures.DEFAULT_CLUSTER, v2_fixtures.FAKE_IDENTITY


def pytest_configure(config):
    config.addinivalue_line("markers", "azure_live: needs a real Azure ML workspace (AMLOCAL_AZURE_LIVE=1); "
                                       "runs without the network guard")
    # azure-ai-ml's own chatter with the marshmallow it resolves with, not ours.
    config.addinivalue_line("filterwarnings", "ignore::marshmallow.warnings.ChangedInMarshmallow4Warning")
    config.addinivalue_line("filterwarnings", "ignore::marshmallow.warnings.RemovedInMarshmallow4Warning")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """No test reads the developer's settings or credentials, or writes under ~/.amlocal."""
    monkeypatch.setenv("AMLOCAL_HOME", str(tmp_path / "amlocal-home"))
    monkeypatch.setenv("AMLOCAL_CACHE", str(tmp_path / "amlocal-cache"))
    for name in ("AMLOCAL_BACKEND", "AMLOCAL_AZURE_AUTH", "AZURE_TENANT_ID", "AZURE_CLIENT_ID",
                 "AZURE_CLIENT_SECRET", "MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID", "AMLOCAL_RUN_SINK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(tmp_path / "azure-cli"))


@pytest.fixture
def fake(tmp_path):
    from amlocal_azureml_v2.fake import FakeV2Adapter

    adapter = FakeV2Adapter(root=tmp_path / "fake-azure-v2", **FAKE_IDENTITY_ARGS)
    adapter.add_cluster(DEFAULT_CLUSTER, vm_size="STANDARD_D2_V2", max_nodes=4)
    yield adapter
    adapter.close()


FAKE_IDENTITY_ARGS = {"subscription_id": FAKE_IDENTITY["subscription_id"],
                      "resource_group": FAKE_IDENTITY["resource_group"],
                      "workspace_name": FAKE_IDENTITY["workspace_name"]}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The user's project: config.json, ./src/train_iris.py, ./data/iris/iris.csv; cwd is there."""
    directory = tmp_path / "project"
    (directory / "src").mkdir(parents=True)
    shutil.copy(REPO / "train_iris.py", directory / "src")
    shutil.copytree(IRIS_DATA, directory / "data" / "iris")
    (directory / "config.json").write_text(json.dumps(dict(FAKE_IDENTITY)))
    monkeypatch.chdir(directory)
    return directory


@pytest.fixture
def ws(fake, project):
    """An amlocal Workspace on the azureml-v2 backend, over ``fake``."""
    from amlocal.core import Workspace

    return Workspace.from_config(backend="azureml-v2", backend_options={"adapter": fake,
                                                                        "default_compute_target": DEFAULT_CLUSTER})
