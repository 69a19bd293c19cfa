"""The iris example, unchanged, with AMLOCAL_BACKEND=azureml-v2: the whole flow through the fake
adapter (the job's command really runs, the unmodified script logs through the shim's MLflow mode),
and every azure-ai-ml entity the backend built checked against its REST form."""

import io
import json
import textwrap
import time
from contextlib import redirect_stdout

import pytest
from azure.ai.ml.entities import AmlCompute as SdkAmlCompute
from azure.ai.ml.entities import Command, Environment

from amlocal.core import Environment as AmlocalEnvironment
from amlocal.core import Experiment, Model, Run, ScriptRunConfig, Workspace
from amlocal.core.compute import AmlCompute, ComputeTarget
from amlocal.core.compute_target import ComputeTargetException
from amlocal.exceptions import ActivityFailedException, InvalidArgumentError, ModelPathNotFoundException
from amlocal.train.sklearn import DEFAULT_FRAMEWORK_VERSION, SKLearn
from amlocal_azureml_v2 import AzureMLV2Backend
from amlocal_azureml_v2.adapter import STATUS_ORDER
from amlocal_azureml_v2.fake import mock_azureml_v2

#: What the fake goes through: the documented order without Provisioning ("not used currently").
SEEN_ORDER = [s for s in STATUS_ORDER if s != "Provisioning"] + ["Completed"]


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
    monkeypatch.setenv("AMLOCAL_BACKEND", "azureml-v2")
    with mock_azureml_v2(fake):
        yield fake


def test_the_iris_example_runs_on_azureml_v2_through_the_fake(azure_by_env, project):
    fake = azure_by_env
    out = io.StringIO()
    with redirect_stdout(out):
        ws, run, model = iris_example()
    printed = out.getvalue()
    assert isinstance(ws.backend, AzureMLV2Backend) and ws.backend.adapter is fake

    assert [status for status, _ in ws.run_history.status_timeline(run.id)] == SEEN_ORDER
    assert run.get_status() == "Completed"

    # the unmodified script's metrics, through the shim's MLflow mode and back
    metrics = run.get_metrics()
    assert set(metrics) == {"Kernel type", "Penalty", "Accuracy"}
    assert (metrics["Kernel type"], metrics["Penalty"]) == ("linear", 1.0)
    assert 0.9 < metrics["Accuracy"] <= 1.0
    files = run.get_file_names()
    assert "outputs/model.joblib" in files and "user_logs/std_log.txt" in files

    assert (model.name, model.version, model.run_id) == ("sklearn-iris", 1, run.id)
    assert model.tags == {"area": "iris", "type": "classification"}
    assert model.url == f"azureml://jobs/{run.id}/outputs/artifacts/paths/outputs/model.joblib"

    assert "Creating\nSucceeded" in printed and "Uploaded 1 files" in printed
    assert f"RunId: {run.id}\nWeb View: https://ml.azure.com/runs/{run.id}?wsid=/subscriptions/" in printed
    assert "Streaming user_logs/std_log.txt" in printed
    assert "Accuracy of SVM classifier on test set" in printed
    assert printed.index("Accuracy of SVM") < printed.index("Execution Summary\n=================")

    _, second, model2 = iris_example(penalty=0.5)
    assert second.get_metrics()["Penalty"] == 0.5
    assert model2.version == 2
    assert [m.version for m in Model.list(ws, name="sklearn-iris")] == [2, 1]
    assert Model(ws, "sklearn-iris").version == 2
    assert Model(ws, "sklearn-iris", version=1).run_id == run.id
    assert Run.get(ws, second.id).get_status() == "Completed"
    assert [r.id for r in Experiment(ws, "sklearn-iris").get_runs()] == [second.id, run.id]

    path = Model(ws, "sklearn-iris", version=1).download(target_dir=str(project / "downloaded"))
    assert path == str(project / "downloaded" / "model.joblib")
    import joblib

    assert joblib.load(path).kernel == "linear"


def test_every_entity_submitted_field_by_field(azure_by_env):
    fake = azure_by_env
    with redirect_stdout(io.StringIO()):
        _, run, _ = iris_example()

    compute = fake.computes_received["cpu-cluster"]
    assert isinstance(compute, SdkAmlCompute)
    compute._set_full_subnet_name(fake.subscription_id, fake.resource_group)
    rest = compute._to_rest_object().as_dict()["properties"]["properties"]
    assert (rest["vmSize"], rest["vmPriority"]) == ("STANDARD_D2_V2", "Dedicated")
    assert rest["scaleSettings"] == {"maxNodeCount": 4, "minNodeCount": 0, "nodeIdleTimeBeforeScaleDown": "PT30M"}

    [job] = fake.submissions
    assert isinstance(job, Command)
    assert job.name == run.id and run.id.startswith("sklearn-iris_")
    properties = job._to_job()._to_rest_object().as_dict()["properties"]
    assert (properties["experimentName"], properties["computeId"], properties["displayName"]) == (
        "sklearn-iris", "cpu-cluster", run.id)
    assert properties["command"] == (
        'PYTHONPATH="$PWD/_amlocal_shim${PYTHONPATH:+:$PYTHONPATH}" python train_iris.py --kernel linear '
        "--penalty 1.0 --data-folder ${{inputs.workspaceblobstore}}")
    assert properties["inputs"] == {"workspaceblobstore": {
        "uri": "azureml://datastores/workspaceblobstore/paths/iris", "mode": "ReadOnlyMount",
        "jobInputType": "uri_folder"}}
    assert properties["environmentVariables"] == {"AMLOCAL_RUN_SINK": "mlflow", "AMLOCAL_RUN_ID": run.id,
                                                  "AMLOCAL_EXPERIMENT_NAME": "sklearn-iris"}
    assert "limits" not in properties  # SKLearn sets no max_run_duration_seconds: no timeout
    assert isinstance(job.environment, Environment)
    environment = job.environment._to_rest_object().as_dict()["properties"]
    assert environment["image"] == "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
    assert environment["condaFile"] == (
        "channels:\n- conda-forge\ndependencies:\n- python=3.11\n- pip\n- pip:\n"
        f"  - scikit-learn=={DEFAULT_FRAMEWORK_VERSION}\n  - joblib\n  - mlflow\n  - azureml-mlflow\n"
        "name: amlocal-sklearn\n")

    details = run.get_details()
    assert details["status"] == "Completed" and details["target"] == "cpu-cluster"
    assert "error" not in details
    assert [s for s, _ in details["statusTimeline"]] == SEEN_ORDER


@pytest.mark.parametrize("how", ["argument", "environment", "config.json"])
def test_the_three_ways_to_choose_azureml_v2(how, project, fake, monkeypatch):
    if how == "environment":
        monkeypatch.setenv("AMLOCAL_BACKEND", "azureml-v2")
    if how == "config.json":
        config = json.loads((project / "config.json").read_text())
        (project / "config.json").write_text(json.dumps(dict(config, backend="azureml-v2")))
    with mock_azureml_v2(fake):
        ws = Workspace.from_config(backend="azureml-v2" if how == "argument" else None)
        assert ws.backend_name == "azureml-v2" and ws.backend.adapter is fake


def stdlib_script(project, name, body):
    folder = project / "scripts"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(body))
    return ScriptRunConfig(source_directory=str(folder), script=name, environment=AmlocalEnvironment("stdlib"))


def test_unmodified_script_logs_every_kind(ws, project):
    config = stdlib_script(project, "log_all.py", """
        import os
        from azureml.core.run import Run
        run = Run.get_context()
        run.log("loss", 0.5)
        run.log("loss", 0.25)
        run.log("epochs", 3)
        run.log("note", "first")
        run.log_list("folds", [1, 2, 3])
        run.log_row("curve", x=1, y=2)
        run.log_row("curve", x=2, y=4)
        run.log_table("table", {"a": [1, 2], "b": [3, 4]})
        run.log_confusion_matrix("cm", {"schema_type": "confusion_matrix", "data": {"matrix": [[1, 0], [0, 1]]}})
        run.tag("stage", "dev")
        run.set_tags({"team": "ml", "owner": "ana"})
        os.makedirs("outputs", exist_ok=True)
        with open("outputs/notes.txt", "w") as f:
            f.write("done")
        with open("extra.txt", "w") as f:
            f.write("uploaded")
        run.upload_file("uploads/extra.txt", "extra.txt")
        run.log_image("picture", path="extra.txt")
        print("run id", run.id, "experiment", run.experiment.name)
        """)
    run = Experiment(ws, "log-kinds").submit(config)
    run.wait_for_completion()
    metrics = run.get_metrics()
    assert metrics["loss"] == [0.5, 0.25]
    assert metrics["epochs"] == 3
    assert metrics["note"] == "first"
    assert metrics["folds"] == [1, 2, 3]
    assert metrics["curve"] == {"x": [1, 2], "y": [2, 4]}
    assert metrics["table"] == {"a": [1, 2], "b": [3, 4]}
    # artifact-backed kinds: their location, or with populate their value (amlocal.rules.metrics)
    location = f"aml://artifactId/ExperimentRun/dcid.{run.id}/"
    assert metrics["cm"] == location + "cm"
    assert run.get_metrics(name="cm", populate=True)["cm"]["data"]["matrix"] == [[1, 0], [0, 1]]
    assert metrics["picture"].startswith(location + "picture_") and metrics["picture"].endswith(".txt")
    assert {"stage": "dev", "team": "ml", "owner": "ana"}.items() <= run.get_tags().items()
    files = run.get_file_names()
    assert {"outputs/notes.txt", "uploads/extra.txt"} <= set(files)
    assert any(f.startswith("picture_") for f in files)
    histories = ws.backend.adapter.metric_histories(run.id)
    assert [(s, v) for s, _, v in histories["loss"]] == [(0, 0.5), (1, 0.25)]  # charted in order
    assert [v for _, _, v in histories["curve.y"]] == [2.0, 4.0]
    log = ws.run_history.read_log(run.id, "user_logs/std_log.txt", final=True)[0]
    assert f"run id {run.id} experiment log-kinds" in log


def test_host_side_logging_continues_the_series(ws, project):
    config = stdlib_script(project, "one.py", """
        from azureml.core.run import Run
        Run.get_context().log("loss", 0.5)
        """)
    run = Experiment(ws, "host").submit(config)
    run.wait_for_completion()
    run.log("loss", 0.25)
    run.log_row("after", a=1)
    run.tag("reviewed", "yes")
    assert run.get_metrics()["loss"] == [0.5, 0.25]
    assert run.get_metrics()["after"] == {"a": 1}  # one row: a dict of values
    assert run.get_tags()["reviewed"] == "yes"


def test_failing_script_fails_with_reason_and_keeps_outputs(ws, project):
    config = stdlib_script(project, "boom.py", """
        import os
        os.makedirs("outputs", exist_ok=True)
        open("outputs/partial.txt", "w").write("written before the failure")
        print("about to fail")
        raise RuntimeError("the training diverged")
        """)
    run = Experiment(ws, "failures").submit(config)
    with pytest.raises(ActivityFailedException) as raised:
        run.wait_for_completion()
    assert raised.value.status == "Failed"
    error = run.get_details()["error"]
    assert error["message"].startswith("Execution failed. User process '/bin/bash' exited with status code 1.")
    assert "RuntimeError: the training diverged" in error["message"]
    assert "the training diverged" in error["log_tail"]
    assert "outputs/partial.txt" in run.get_file_names()


def test_cancel_and_timeout_end_canceled(ws, project):
    sleeper = stdlib_script(project, "sleeper.py", """
        import time
        print("sleeping", flush=True)
        time.sleep(300)
        """)
    run = Experiment(ws, "cancel").submit(sleeper)
    deadline = time.monotonic() + 60
    while run.get_status() != "Running":
        assert time.monotonic() < deadline, f"never reached Running: {run.get_status()}"
    run.cancel()
    assert run.wait_for_completion(raise_on_error=False)["status"] == "Canceled"
    sleeper.max_run_duration_seconds = 1
    timed = Experiment(ws, "cancel").submit(sleeper)
    details = timed.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Canceled" and "limits.timeout (1 seconds" in details["error"]["message"]


def test_datastore_paths_reach_the_script_mounted_or_downloaded(ws, project):
    ds = ws.get_default_datastore()
    ds.upload(src_dir="./data/iris", target_path="iris", overwrite=True, show_progress=False)
    config = stdlib_script(project, "count_rows.py", """
        import argparse, os
        from azureml.core import Run
        parser = argparse.ArgumentParser()
        parser.add_argument("--mounted")
        parser.add_argument("--downloaded")
        parser.add_argument("--file")
        args = parser.parse_args()
        run = Run.get_context()
        for label, path in (("mounted", os.path.join(args.mounted, "iris.csv")),
                            ("downloaded", os.path.join(args.downloaded, "iris.csv")), ("file", args.file)):
            with open(path) as f:
                run.log(label + "_rows", sum(1 for _ in f) - 1)
        """)
    config.arguments = ["--mounted", ds.path("iris").as_mount(), "--downloaded", ds.path("iris").as_download(),
                        "--file", ds.path("iris/iris.csv").as_download()]
    run = Experiment(ws, "data").submit(config)
    run.wait_for_completion()
    metrics = run.get_metrics()
    assert metrics == {"mounted_rows": 150, "downloaded_rows": 150, "file_rows": 150}
    inputs = ws.backend.adapter.submissions[-1].inputs
    assert sorted((i.type, i.mode) for i in inputs.values()) == [
        ("uri_file", "download"), ("uri_folder", "download"), ("uri_folder", "ro_mount")]


def test_a_missing_datastore_path_is_refused_before_submitting(ws, project):
    config = stdlib_script(project, "noop.py", "print('x')\n")
    config.arguments = ["--data", ws.get_default_datastore().path("nothing-here").as_mount()]
    with pytest.raises(InvalidArgumentError, match="nothing-here does not exist. Upload the data first"):
        Experiment(ws, "data").submit(config)
    assert ws.backend.adapter.submissions == []


def test_register_model_path_not_in_run_lists_files(ws, project):
    config = stdlib_script(project, "writer.py", """
        import os
        os.makedirs("outputs", exist_ok=True)
        open("outputs/model.bin", "w").write("weights")
        """)
    run = Experiment(ws, "paths").submit(config)
    run.wait_for_completion()
    with pytest.raises(ModelPathNotFoundException) as raised:
        run.register_model(model_name="m", model_path="outputs/missing.bin")
    assert "outputs/model.bin" in str(raised.value)
    model = run.register_model(model_name="m", model_path="./outputs/model.bin", properties={"accuracy": 0.97})
    assert (model.version, model.properties) == (1, {"accuracy": "0.97"})
    assert [m.name for m in Model.list(ws, properties=[["accuracy", "0.97"]])] == ["m"]
    assert Model.list(ws, tags=["absent"]) == []
    local = Model.get_model_path("m", _workspace=ws)
    assert open(local).read() == "weights"


def test_interactive_runs_log_through_mlflow(ws):
    run = Experiment(ws, "interactive").start_logging()
    run.log("loss", 0.5)
    run.log("loss", 0.25)
    run.log_row("curve", x=1, y=2)
    run.tag("stage", "dev")
    run.complete()
    assert run.get_status() == "Completed"
    assert run.get_metrics() == {"loss": [0.5, 0.25], "curve": {"x": 1, "y": 2}}
    assert run.get_tags() == {"stage": "dev"}


def test_a_hyperdrive_sweep_is_refused_saying_where_it_runs(ws, project):
    from amlocal.train.hyperdrive import HyperDriveConfig, PrimaryMetricGoal, RandomParameterSampling, choice

    config = stdlib_script(project, "score.py", "print('never runs')\n")
    sweep = HyperDriveConfig(run_config=config, hyperparameter_sampling=RandomParameterSampling({"--a": choice(1, 2)}),
                             primary_metric_name="Accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                             max_total_runs=2)
    with pytest.raises(InvalidArgumentError) as raised:
        Experiment(ws, "sweep").submit(sweep)
    assert "'azureml-v2' backend cannot run HyperDrive sweeps" in str(raised.value)
    assert "docker or process" in str(raised.value)
    assert list(Experiment(ws, "sweep").get_runs()) == []
