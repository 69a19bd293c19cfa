"""The iris example, unchanged, with AMLOCAL_BACKEND=azureml: the whole flow through the fake
adapter, and every azureml object the backend builds checked field by field."""

import io
import json
from contextlib import redirect_stdout

import pytest
from azureml.core import ScriptRunConfig as SdkScriptRunConfig
from azureml.core.compute.amlcompute import AmlComputeProvisioningConfiguration
from azureml.core.environment import DEFAULT_CPU_IMAGE

from amlocal.core import Experiment, Model, Run, Workspace
from amlocal.core.compute import AmlCompute, ComputeTarget
from amlocal.core.compute_target import ComputeTargetException
from amlocal.rules.statuses import AMLCOMPUTE_ORDER, COMPLETED

STATUS_ORDER = (*AMLCOMPUTE_ORDER, COMPLETED)
from amlocal.train.sklearn import DEFAULT_FRAMEWORK_VERSION, SKLearn
from amlocal_azureml import AzureMLBackend
from amlocal_azureml.fake import mock_azureml


def iris_example(penalty=1.0):
    """The user's code, as in the Azure ML (SDK v1) scikit-learn article; it names no backend."""
    ws = Workspace.from_config()
    try:
        cluster = ComputeTarget(workspace=ws, name="cpu-cluster")
    except ComputeTargetException:
        config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
        cluster = ComputeTarget.create(ws, "cpu-cluster", config)
        cluster.wait_for_completion(show_output=True)
    ds = ws.get_default_datastore()
    ds.upload(src_dir="./data/iris", target_path="iris", overwrite=True, show_progress=True)
    estimator = SKLearn(source_directory="./src", entry_script="train_iris.py", compute_target=cluster,
                        script_params={"--kernel": "linear", "--penalty": penalty,
                                       "--data-folder": ds.path("iris").as_mount()},
                        pip_packages=["joblib"])
    run = Experiment(workspace=ws, name="sklearn-iris").submit(estimator)
    run.wait_for_completion(show_output=True)
    model = run.register_model(model_name="sklearn-iris", model_path="outputs/model.joblib",
                               tags={"area": "iris", "type": "classification"})
    return ws, run, model


@pytest.fixture
def azure_by_env(project, fake, monkeypatch):
    monkeypatch.setenv("AMLOCAL_BACKEND", "azureml")
    with mock_azureml(fake):
        yield fake


def test_the_iris_example_runs_on_azureml_through_the_fake(azure_by_env):
    fake = azure_by_env
    out = io.StringIO()
    with redirect_stdout(out):
        ws, run, model = iris_example()
    printed = out.getvalue()
    assert isinstance(ws.backend, AzureMLBackend) and ws.backend.adapter is fake

    # statuses: Azure's order, every one of them
    assert [status for status, _ in ws.run_history.status_timeline(run.id)] == list(STATUS_ORDER)
    assert run.get_status() == "Completed"

    # metrics and files the script itself produced
    metrics = run.get_metrics()
    assert set(metrics) == {"Kernel type", "Penalty", "Accuracy"}
    assert (metrics["Kernel type"], metrics["Penalty"]) == ("linear", 1.0)
    assert 0.9 < metrics["Accuracy"] <= 1.0
    files = run.get_file_names()
    assert "outputs/model.joblib" in files and "azureml-logs/70_driver_log.txt" in files

    # the model, in the workspace registry
    assert (model.name, model.version, model.run_id) == ("sklearn-iris", 1, run.id)
    assert model.tags == {"area": "iris", "type": "classification"}
    assert model.url.startswith("aml://asset/")

    # what the user saw: the cluster provisioning, the upload, the run streamed as Azure ML does
    assert "Succeeded" in printed and "Minimum number of nodes requested have been provisioned" in printed
    assert "Uploaded 1 files" in printed
    assert f"RunId: {run.id}\nWeb View: https://ml.azure.com/runs/{run.id}?wsid=/subscriptions/" in printed
    assert "Streaming azureml-logs/70_driver_log.txt" in printed
    assert "Accuracy of SVM classifier on test set" in printed
    assert printed.index("Accuracy of SVM") < printed.index("Execution Summary\n=================")

    # the second run registers version 2
    _, second, model2 = iris_example(penalty=0.5)
    assert second.get_metrics()["Penalty"] == 0.5
    assert model2.version == 2
    assert [m.version for m in Model.list(ws, name="sklearn-iris")] == [2, 1]
    assert Model(ws, "sklearn-iris").version == 2
    assert Model(ws, "sklearn-iris", version=1).run_id == run.id
    assert Run.get(ws, second.id).get_status() == "Completed"


def test_every_azureml_object_submitted_field_by_field(azure_by_env):
    fake = azure_by_env
    with redirect_stdout(io.StringIO()):
        _, run, _ = iris_example()

    provisioning = fake.provisioning_configurations["cpu-cluster"]
    assert isinstance(provisioning, AmlComputeProvisioningConfiguration)
    assert (provisioning.vm_size, provisioning.vm_priority) == ("STANDARD_D2_V2", "dedicated")
    assert (provisioning.scale_settings.minimum_node_count, provisioning.scale_settings.maximum_node_count) == (0, 4)
    assert provisioning.scale_settings.idle_seconds_before_scaledown == 1800

    [(experiment, config, tags)] = fake.submissions
    assert (experiment, tags) == ("sklearn-iris", {})
    assert isinstance(config, SdkScriptRunConfig)
    assert config.script == "train_iris.py"
    assert config.source_directory.endswith("/project/src")
    assert config.run_config.target == "cpu-cluster"
    assert config.run_config.max_run_duration_seconds == SdkScriptRunConfig.MAX_DURATION_SECONDS_DEFAULT
    flags, values = config.arguments[0::2], config.arguments[1::2]
    assert flags == ["--kernel", "--penalty", "--data-folder"]
    assert values[:2] == ["linear", "1.0"]
    reference_name = values[2].removeprefix("$AZUREML_DATAREFERENCE_")
    [(name, reference)] = config.run_config.data_references.items()
    assert name == reference_name
    assert (reference.data_store_name, reference.path_on_data_store, reference.mode, reference.path_on_compute,
            reference.overwrite) == ("workspaceblobstore", "iris", "mount", None, False)

    environment = config.run_config.environment
    assert environment.name == "amlocal-sklearn"
    assert environment.docker.base_image == DEFAULT_CPU_IMAGE
    assert environment.python.user_managed_dependencies is False
    deps = environment.python.conda_dependencies
    assert list(deps.pip_packages) == ["azureml-defaults", f"scikit-learn=={DEFAULT_FRAMEWORK_VERSION}", "joblib"]
    assert list(deps.conda_packages) == ["python=3.11"]
    assert config.run_config.environment_variables == {}

    # and the details Azure reports describe that submission
    details = run.get_details()
    assert details["status"] == "Completed" and details["target"] == "cpu-cluster"
    assert details["runDefinition"]["script"] == "train_iris.py"
    assert details["runDefinition"]["dataReferences"][name]["pathOnDataStore"] == "iris"
    assert "error" not in details
    assert [s for s, _ in details["statusTimeline"]] == list(STATUS_ORDER)


@pytest.mark.parametrize("how", ["argument", "environment", "config.json"])
def test_the_three_ways_to_choose_azureml(how, project, fake, monkeypatch):
    if how == "environment":
        monkeypatch.setenv("AMLOCAL_BACKEND", "azureml")
    if how == "config.json":
        config = json.loads((project / "config.json").read_text())
        (project / "config.json").write_text(json.dumps(dict(config, backend="azureml")))
    with mock_azureml(fake):
        ws = Workspace.from_config(backend="azureml" if how == "argument" else None)
        assert ws.backend_name == "azureml"
        assert isinstance(ws.backend, AzureMLBackend)
        assert ws.backend.adapter is fake


def test_the_model_downloads_and_gets_a_local_path(ws, project):
    with redirect_stdout(io.StringIO()):
        estimator = SKLearn(source_directory="./src", entry_script="train_iris.py", compute_target="amlocal-cpu",
                            script_params={"--kernel": "rbf"})
        run = Experiment(ws, "download").submit(estimator)
        run.wait_for_completion()
    model = run.register_model("iris-rbf", "outputs/model.joblib", properties={"accuracy": 0.97})
    assert model.properties == {"accuracy": "0.97"}
    path = model.download(target_dir=str(project / "downloaded"))
    assert path == str(project / "downloaded" / "model.joblib")
    import joblib

    assert joblib.load(path).kernel == "rbf"
    local = Model.get_model_path("iris-rbf", _workspace=ws)
    assert local.endswith("model.joblib") and joblib.load(local).kernel == "rbf"
    assert [m.name for m in Model.list(ws, tags=None, properties=[["accuracy", "0.97"]])] == ["iris-rbf"]


def test_runs_without_a_target_use_the_default_cluster_and_interactive_runs_log(ws):
    run = Experiment(ws, "interactive").start_logging()
    run.log("loss", 0.5)
    run.log("loss", 0.25)
    run.log_row("curve", x=1, y=2)
    run.tag("stage", "dev")
    run.complete()
    assert run.get_status() == "Completed"
    assert run.get_metrics() == {"loss": [0.5, 0.25], "curve": {"x": 1, "y": 2}}  # one row: its values
    assert run.get_tags() == {"stage": "dev"}
    assert sorted(ws.experiments) == ["interactive"]
    assert [r.id for r in Experiment(ws, "interactive").get_runs()] == [run.id]
