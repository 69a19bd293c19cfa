"""The iris flow against a real Azure ML workspace: AMLOCAL_AZURE_LIVE=1 with its config.json and
credentials (see fixtures.py); skipped otherwise, with the reason. The backend contract suite
(tests/contract) runs against the same workspace in that mode too."""

import io
from contextlib import redirect_stdout

import pytest
from amlocal_tests_azureml_fixtures import live_status, make_azureml_workspace

from amlocal.core import Experiment, Model
from amlocal.rules.statuses import AMLCOMPUTE_ORDER, COMPLETED

STATUS_ORDER = (*AMLCOMPUTE_ORDER, COMPLETED)
from amlocal.train.sklearn import SKLearn

LIVE, DETAIL = live_status()
live = pytest.mark.skipif(not LIVE, reason=str(DETAIL))


def test_the_skip_says_how_to_run_live_tests(monkeypatch):
    monkeypatch.delenv("AMLOCAL_AZURE_LIVE", raising=False)
    enabled, reason = live_status()
    assert not enabled
    assert "AMLOCAL_AZURE_LIVE=1" in reason and "config.json" in reason and "credentials" in reason


def test_live_on_without_credentials_says_which_are_missing(monkeypatch, project):
    monkeypatch.setenv("AMLOCAL_AZURE_LIVE", "1")
    enabled, reason = live_status()
    assert not enabled
    assert reason.startswith("AMLOCAL_AZURE_LIVE=1 but No Azure credentials")


def test_without_live_the_contract_fixture_gives_the_fake(tmp_path):
    from amlocal_azureml import AzureMLBackend
    from amlocal_azureml.fake import FakeAzureAdapter

    ws = make_azureml_workspace(tmp_path, tmp_path / "project")
    assert ws.backend_name == "azureml" and isinstance(ws.backend, AzureMLBackend)
    assert isinstance(ws.backend.adapter, FakeAzureAdapter)
    assert make_azureml_workspace(tmp_path, tmp_path / "again").backend.adapter is ws.backend.adapter
    assert ws.backend.adapter.get_compute("amlocal-cpu")["provisioning_state"] == "Succeeded"


def test_the_contract_fixture_keeps_the_identity_of_an_existing_config(tmp_path, project):
    ws = make_azureml_workspace(tmp_path, project)
    assert (ws.subscription_id, ws.resource_group, ws.name) == (
        "00000000-0000-0000-0000-000000000000", "amlocal-fake-rg", "amlocal-fake-ws")
    (project / "config.json").write_text('{"subscription_id": "s", "resource_group": "r", "workspace_name": "w"}')
    other = make_azureml_workspace(tmp_path / "other", project)
    assert (other.subscription_id, other.resource_group, other.name) == ("s", "r", "w")
    assert other.backend.adapter.workspace_name == "w"
    assert other._config["backend"] == "azureml" and other._config["default_compute_target"] == "amlocal-cpu"


@live
@pytest.mark.azure_live
def test_live_iris_flow(tmp_path, project):
    ws = make_azureml_workspace(tmp_path, project)
    estimator = SKLearn(source_directory="./src", entry_script="train_iris.py",
                        compute_target=ws.backend.default_compute_target,
                        script_params={"--kernel": "linear", "--penalty": 1.0}, pip_packages=["joblib"])
    run = Experiment(ws, "amlocal-live-iris").submit(estimator)
    out = io.StringIO()
    with redirect_stdout(out):
        run.wait_for_completion(show_output=True)
    seen = [status for status, _ in ws.run_history.status_timeline(run.id)]
    assert seen == [s for s in STATUS_ORDER if s in seen] and seen[-1] == "Completed"
    assert {"Kernel type", "Penalty", "Accuracy"} <= set(run.get_metrics())
    assert "outputs/model.joblib" in run.get_file_names()
    before = [m.version for m in Model.list(ws, name="amlocal-live-iris")]
    model = run.register_model(model_name="amlocal-live-iris", model_path="outputs/model.joblib")
    assert model.version == max(before, default=0) + 1
    assert f"RunId: {run.id}" in out.getvalue()
