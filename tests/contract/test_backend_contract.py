"""One behaviour suite, every backend: what a user of the Azure ML article sees."""

import io
import textwrap
import time
from contextlib import redirect_stdout

import pytest

from amlocal.core import Environment, Experiment, Model, Run, ScriptRunConfig
from amlocal.core.compute import AmlCompute, ComputeTarget
from amlocal.core.compute_target import ComputeTargetException
from amlocal.exceptions import ActivityFailedException, ModelPathNotFoundException
from amlocal.rules.statuses import AMLCOMPUTE_ORDER, COMPLETED, ORDER
from amlocal.train.sklearn import SKLearn


def status_order(ws):
    """The statuses a run of ``ws``'s backend goes through, in order: Azure's documented order
    on Azure ML (Preparing, the image build, before Queued for a node), the local one elsewhere."""
    return [*(AMLCOMPUTE_ORDER if ws.backend_name == "azureml" else ORDER), COMPLETED]


def cluster(ws, name="cpu-cluster", max_nodes=4):
    try:
        return ComputeTarget(workspace=ws, name=name)
    except ComputeTargetException:
        config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=max_nodes)
        target = ComputeTarget.create(ws, name, config)
        target.wait_for_completion(show_output=False)
        return target


def iris_estimator(ws, **params):
    script_params = {"--kernel": "linear", "--penalty": 1.0, **params}
    return SKLearn(source_directory="./sklearn-iris", entry_script="train_iris.py", script_params=script_params,
                   compute_target=cluster(ws), pip_packages=["joblib"])


def stdlib_script(project, name, body):
    """A training script needing no packages (so no image build): ./scripts/<name>."""
    folder = project / "scripts"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(body))
    return ScriptRunConfig(source_directory=str(folder), script=name, environment=Environment("stdlib"))


def follow_statuses(run, timeout=600):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = run.get_status()
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in ("Completed", "Failed", "Canceled"):
            return seen
        time.sleep(0.02)
    raise AssertionError(f"run {run.id} did not end in {timeout} s; statuses seen: {seen}")


def test_article_flow_trains_and_registers_versions(ws):
    exp = Experiment(workspace=ws, name="sklearn-iris")
    run = exp.submit(iris_estimator(ws))
    seen = follow_statuses(run)
    assert seen[-1] == "Completed", run.get_details().get("error")
    assert seen == [s for s in status_order(ws) if s in seen], f"statuses out of the backend's order: {seen}"

    metrics = run.get_metrics()
    assert {"Kernel type", "Penalty", "Accuracy"} <= set(metrics)
    assert metrics["Kernel type"] == "linear" and metrics["Penalty"] == 1.0
    assert 0.9 < metrics["Accuracy"] <= 1.0
    assert "outputs/model.joblib" in run.get_file_names()

    model = run.register_model(model_name="sklearn-iris", model_path="outputs/model.joblib")
    assert (model.name, model.version, model.run_id) == ("sklearn-iris", 1, run.id)

    second = exp.submit(iris_estimator(ws, **{"--penalty": 0.5}))
    second.wait_for_completion()
    assert second.get_metrics()["Penalty"] == 0.5
    assert second.register_model(model_name="sklearn-iris", model_path="outputs/model.joblib").version == 2
    assert [m.version for m in Model.list(ws, name="sklearn-iris")] == [2, 1]
    assert Model(ws, "sklearn-iris").version == 2


def test_show_output_streams_like_azure(ws, project):
    config = stdlib_script(project, "hello.py", """
        print("hello from the job")
        """)
    run = Experiment(ws, "show-output").submit(config)
    out = io.StringIO()
    with redirect_stdout(out):
        details = run.wait_for_completion(show_output=True)
    text = out.getvalue()
    assert details["status"] == "Completed"
    assert text.startswith(f"RunId: {run.id}\nWeb View: ")
    assert "Streaming " in text and "hello from the job" in text
    assert text.index("hello from the job") < text.index("Execution Summary\n=================")


def test_unmodified_script_logs_every_kind(ws, project):
    config = stdlib_script(project, "log_all.py", """
        import os
        from azureml.core.run import Run
        run = Run.get_context()
        run.log("loss", 0.5)
        run.log("loss", 0.25)
        run.log_list("folds", [1, 2, 3])
        run.log_row("curve", x=1, y=2)
        run.log_row("curve", x=2, y=4)
        run.log_table("table", {"a": [1, 2], "b": [3, 4]})
        run.tag("stage", "dev")
        run.set_tags({"team": "ml", "owner": "ana"})
        os.makedirs("outputs", exist_ok=True)
        with open("outputs/notes.txt", "w") as f:
            f.write("done")
        with open("extra.txt", "w") as f:
            f.write("uploaded")
        run.upload_file("uploads/extra.txt", "extra.txt")
        run.log_image("picture", path="extra.txt")
        os.makedirs("logs", exist_ok=True)
        with open("logs/trace.txt", "w") as f:
            f.write("trace")
        """)
    run = Experiment(ws, "log-kinds").submit(config)
    run.wait_for_completion()
    metrics = run.get_metrics()
    assert metrics["loss"] == [0.5, 0.25]
    assert metrics["folds"] == [1, 2, 3]
    assert metrics["curve"] == {"x": [1, 2], "y": [2, 4]}
    assert metrics["table"] == {"a": [1, 2], "b": [3, 4]}
    assert "picture" in metrics
    assert {"stage": "dev", "team": "ml", "owner": "ana"}.items() <= run.get_tags().items()
    files = run.get_file_names()
    assert {"outputs/notes.txt", "uploads/extra.txt", "logs/trace.txt"} <= set(files)


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
    assert run.get_status() == "Failed"
    error = run.get_details()["error"]
    assert "the training diverged" in error["log_tail"]
    assert error["message"]
    assert "outputs/partial.txt" in run.get_file_names()
    # raise_on_error=False returns the details instead
    assert run.wait_for_completion(raise_on_error=False)["status"] == "Failed"


def test_cancel_stops_the_job(ws, project):
    config = stdlib_script(project, "sleeper.py", """
        import time
        print("sleeping", flush=True)
        time.sleep(300)
        """)
    run = Experiment(ws, "cancel").submit(config)
    deadline = time.monotonic() + 120
    while run.get_status() != "Running":
        assert time.monotonic() < deadline, f"never reached Running: {run.get_status()}"
        time.sleep(0.05)
    started = time.monotonic()
    run.cancel()
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Canceled"
    assert time.monotonic() - started < 30


def test_datastore_paths_reach_the_script(ws, project):
    ds = ws.get_default_datastore()
    ds.upload(src_dir="./data/iris", target_path="iris", overwrite=True, show_progress=False)
    config = stdlib_script(project, "count_rows.py", """
        import argparse, os
        from azureml.core import Run
        parser = argparse.ArgumentParser()
        parser.add_argument("--mounted")
        parser.add_argument("--downloaded")
        args = parser.parse_args()
        run = Run.get_context()
        for label, folder in (("mounted", args.mounted), ("downloaded", args.downloaded)):
            with open(os.path.join(folder, "iris.csv")) as f:
                run.log(label + "_rows", sum(1 for _ in f) - 1)
        """)
    config.arguments = ["--mounted", ds.path("iris").as_mount(), "--downloaded", ds.path("iris").as_download()]
    run = Experiment(ws, "data").submit(config)
    run.wait_for_completion()
    metrics = run.get_metrics()
    assert metrics["mounted_rows"] == 150 and metrics["downloaded_rows"] == 150


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
    assert run.register_model(model_name="m", model_path="outputs/model.bin").version == 1
    assert Run.get(ws, run.id).get_status() == "Completed"
