"""The iris flow against a real Azure ML workspace through SDK v2: AMLOCAL_AZURE_LIVE=1 with its
config.json and credentials (see fixtures.py); skipped otherwise, with the reason."""

import io
from contextlib import redirect_stdout

import pytest
from amlocal_tests_azureml_v2_fixtures import live_status, make_live_workspace

from amlocal.core import Experiment, Model
from amlocal.core.compute import AmlCompute, ComputeTarget
from amlocal.core.compute_target import ComputeTargetException
from amlocal.train.sklearn import SKLearn
from amlocal_azureml_v2.adapter import STATUS_ORDER

LIVE, DETAIL = live_status()
live = pytest.mark.skipif(not LIVE, reason=str(DETAIL))


def test_the_skip_says_how_to_run_live_tests(monkeypatch):
    monkeypatch.delenv("AMLOCAL_AZURE_LIVE", raising=False)
    enabled, reason = live_status()
    assert not enabled
    assert "AMLOCAL_AZURE_LIVE=1" in reason and "config.json" in reason and "credentials" in reason


def test_live_on_without_credentials_says_which_are_missing(monkeypatch, project):
    monkeypatch.setenv("AMLOCAL_AZURE_LIVE", "1")
    monkeypatch.setenv("PATH", "/nonexistent")  # no `az` either
    enabled, reason = live_status()
    assert not enabled
    assert reason.startswith("AMLOCAL_AZURE_LIVE=1 but No Azure credentials for the 'azureml-v2' backend")


def test_live_on_without_config_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("AMLOCAL_AZURE_LIVE", "1")
    monkeypatch.chdir(tmp_path)
    enabled, reason = live_status()
    assert not enabled and reason.startswith("AMLOCAL_AZURE_LIVE=1 but no usable config.json")


@live
@pytest.mark.azure_live
def test_live_iris_flow(tmp_path, project):
    ws = make_live_workspace(project)
    target = ws.backend.default_compute_target
    try:
        ComputeTarget(ws, target)
    except ComputeTargetException:
        ComputeTarget.create(ws, target, AmlCompute.provisioning_configuration(
            vm_size="STANDARD_DS3_V2", min_nodes=0, max_nodes=2)).wait_for_completion(show_output=True)
    ds = ws.get_default_datastore()
    ds.upload(src_dir="./data/iris", target_path="amlocal-live/iris", overwrite=True, show_progress=False)
    estimator = SKLearn(source_directory="./src", entry_script="train_iris.py", compute_target=target,
                        script_params={"--kernel": "linear", "--penalty": 1.0,
                                       "--data-folder": ds.path("amlocal-live/iris").as_mount()},
                        pip_packages=["joblib"])
    run = Experiment(ws, "amlocal-live-iris-v2").submit(estimator)
    out = io.StringIO()
    with redirect_stdout(out):
        run.wait_for_completion(show_output=True)
    seen = [status for status, _ in ws.run_history.status_timeline(run.id)]
    assert seen[-1] == "Completed" and seen == [s for s in (*STATUS_ORDER, "Completed") if s in seen]
    assert {"Kernel type", "Penalty", "Accuracy"} <= set(run.get_metrics())
    assert "outputs/model.joblib" in run.get_file_names()
    before = [m.version for m in Model.list(ws, name="amlocal-live-iris-v2")]
    model = run.register_model(model_name="amlocal-live-iris-v2", model_path="outputs/model.joblib")
    assert model.version == max(before, default=0) + 1
    assert model.download(target_dir=str(tmp_path / "model"), exist_ok=True).endswith("model.joblib")
    assert f"RunId: {run.id}" in out.getvalue()
