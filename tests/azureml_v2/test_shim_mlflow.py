"""The runtime shim's MLflow mode (``_mlflow_sink``): an unmodified SDK v1 script in an SDK v2 job.

The first test runs the script against the REAL mlflow package (a local file store standing in for
the workspace's tracking server) and reads the run back with the real client, so the shim's calls
are checked against mlflow itself; the fake's stand-in mlflow is checked against the real API's
signatures, so what the fake exercises is what the job will call."""

import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from amlocal.local import job_shim_dir
from amlocal_azureml_v2 import metrics
from amlocal_azureml_v2._fake_job import FAKE_MLFLOW_DIR

SCRIPT = """
import io, os
from azureml.core.run import Run
run = Run.get_context()
run.log("loss", 0.5)
run.log("loss", 0.25)
run.log("epochs", 3, step=7)
run.log("converged", True)
run.log("kernel", "linear")
run.log_list("folds", [0.1, 0.2])
run.log_row("curve", x=1, y="a")
run.log_row("curve", x=2, y="b")
run.log_table("table", {"a": [1, 2]})
run.log_confusion_matrix("cm", '{"schema_type": "confusion_matrix"}')
run.tag("stage", "dev")
run.tag("empty")
with open("notes.txt", "w") as f:
    f.write("hello")
run.upload_file("uploads/notes.txt", "notes.txt")
run.upload_file("stream.bin", io.BytesIO(b"bytes"))
run.log_image("picture", path="notes.txt")
print("ID", run.id, run.experiment.name, type(run).__module__)
"""


def run_script(tmp_path, environment, python_path):
    (tmp_path / "train.py").write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMLOCAL_", "MLFLOW_")) and k != "PYTHONPATH"}
    env.update(environment)
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in python_path)
    return subprocess.run([sys.executable, "train.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_unmodified_script_logs_to_real_mlflow_and_reads_back_as_sdk_v1(tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # mlflow's local file store stands in for Azure ML
    store = f"file://{tmp_path / 'mlruns'}"
    client = MlflowClient(tracking_uri=store)
    run_id = client.create_run(client.create_experiment("v2-job")).info.run_id
    proc = run_script(tmp_path, {"MLFLOW_TRACKING_URI": store, "MLFLOW_RUN_ID": run_id,
                                 "MLFLOW_EXPERIMENT_NAME": "v2-job", "MLFLOW_ALLOW_FILE_STORE": "true"}, [job_shim_dir()])
    assert proc.returncode == 0, proc.stderr
    assert f"ID {run_id} v2-job" in proc.stdout

    run = client.get_run(run_id)
    assert run.data.tags["stage"] == "dev" and run.data.tags["empty"] == ""
    histories = {key: [(m.step, m.timestamp, m.value) for m in client.get_metric_history(run_id, key)]
                 for key in run.data.metrics}
    assert [(s, v) for s, _, v in histories["loss"]] == [(0, 0.5), (1, 0.25)]
    assert [(s, v) for s, _, v in histories["epochs"]] == [(7, 3.0)]
    assert [(s, v) for s, _, v in histories["folds"]] == [(0, 0.1), (1, 0.2)]
    assert [(s, v) for s, _, v in histories["curve.x"]] == [(0, 1.0), (1, 2.0)]
    assert "curve.y" not in histories  # text cells are not MLflow metrics

    def artifacts(path=None):
        for info in client.list_artifacts(run_id, path):
            yield from (artifacts(info.path) if info.is_dir else [info.path])

    files = sorted(artifacts())
    assert {"uploads/notes.txt", "stream.bin", "amlocal/metrics/kernel.json", "amlocal/metrics/curve.json"} <= \
        set(files)
    assert Path(client.download_artifacts(run_id, "stream.bin", str(tmp_path / "dl"))).read_bytes() == b"bytes"

    stored = {}
    for path in files:
        name = metrics.sink_module().metric_from_artifact(path)
        if name:
            record = json.loads(Path(client.download_artifacts(run_id, path, str(tmp_path / "m"))).read_text())
            stored[record["name"]] = record
    shapes = metrics.v1_shapes(histories, stored, run_id=run_id)
    location = f"aml://artifactId/ExperimentRun/dcid.{run_id}/"
    image = shapes.pop("picture")
    assert image.startswith(location + "picture_") and image.endswith(".txt")
    assert shapes == {"loss": [0.5, 0.25], "epochs": 3.0, "converged": 1.0, "kernel": "linear", "folds": [0.1, 0.2],
                      "curve": {"x": [1, 2], "y": ["a", "b"]}, "table": {"a": [1, 2]}, "cm": location + "cm"}
    populated = metrics.v1_shapes(histories, stored, run_id=run_id, populate=True)
    assert populated["cm"] == '{"schema_type": "confusion_matrix"}'
    assert populated["picture"] == image.rpartition("/")[2]


SINK_CALLS = {"log_metric": ("run_id", "key", "value"), "log_batch": ("run_id",), "log_dict": ("run_id",),
              "set_tag": ("run_id", "key", "value"), "log_artifact": ("run_id", "local_path", "artifact_path")}


def test_the_stand_in_mlflow_has_the_real_signatures(tmp_path):
    import mlflow.entities
    import mlflow.tracking

    code = textwrap.dedent("""
        import inspect, json, mlflow, mlflow.entities, mlflow.tracking
        names = ["log_metric", "log_batch", "log_dict", "set_tag", "log_artifact"]
        print(json.dumps({"file": mlflow.__file__,
                          "client": {n: list(inspect.signature(getattr(mlflow.tracking.MlflowClient, n)).parameters)
                                     for n in names},
                          "metric": list(inspect.signature(mlflow.entities.Metric.__init__).parameters)}))
    """)
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(FAKE_MLFLOW_DIR)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    stand_in = json.loads(proc.stdout)
    assert stand_in["file"].startswith(str(FAKE_MLFLOW_DIR))
    for name, parameters in stand_in["client"].items():
        assert parameters == list(inspect.signature(getattr(mlflow.tracking.MlflowClient, name)).parameters), name
    assert stand_in["metric"] == list(inspect.signature(mlflow.entities.Metric.__init__).parameters)
    # and the shim passes what the real methods take
    source = (job_shim_dir() / "azureml" / "core" / "_mlflow_sink.py").read_text()
    assert "self.client.log_metric(self.run_id, key, value, step=step)" in source
    assert "self.metric_class(key=key, value=value, timestamp=_now_ms(), step=step)" in source


def test_without_mlflow_in_the_job_the_script_still_runs_and_says_why(tmp_path):
    # mlflow is installed in the test environment: hide it behind a package that fails to import
    (tmp_path / "hide").mkdir()
    (tmp_path / "hide" / "mlflow").mkdir()
    (tmp_path / "hide" / "mlflow" / "__init__.py").write_text("raise ImportError('no mlflow here')\n")
    proc = run_script(tmp_path, {"AMLOCAL_RUN_SINK": "mlflow", "AMLOCAL_RUN_ID": "job_1"},
                      [job_shim_dir(), tmp_path / "hide"])
    assert proc.returncode == 0, proc.stderr
    assert "has no usable 'mlflow' package (no mlflow here)" in proc.stderr
    assert "Attempted to log scalar metric loss:\n0.5" in proc.stdout


def test_a_local_runs_control_directory_wins_over_mlflow_variables(tmp_path):
    control = tmp_path / "control"
    proc = run_script(tmp_path, {"AMLOCAL_RUN_CONTROL": str(control), "AMLOCAL_RUN_ID": "local_1",
                                 "MLFLOW_TRACKING_URI": "azureml://nowhere", "MLFLOW_RUN_ID": "x"}, [job_shim_dir()])
    assert proc.returncode == 0, proc.stderr
    assert "ID local_1" in proc.stdout
    assert (control / "events.jsonl").read_text().count('"kind":"metric"') == 11


def test_the_sink_is_chosen_only_in_an_azure_ml_job():
    sink = metrics.sink_module()
    assert sink.wanted({"AMLOCAL_RUN_SINK": "mlflow"})
    assert sink.wanted({"MLFLOW_TRACKING_URI": "azureml://x", "MLFLOW_RUN_ID": "job"})
    assert not sink.wanted({"MLFLOW_TRACKING_URI": "azureml://x"})
    assert not sink.wanted({})
    assert sink.metric_from_artifact(sink.stored_metric_path("a/b c")) == "a/b c"
    assert sink.metric_from_artifact("amlocal/metrics/nested/x.json") is None
