"""The sample notebook's sweep ("train-hyperparameter-tune-deploy-with-sklearn", as
examples/sweep/sweep_and_register.py runs it, line for line): the curated AzureML-sklearn-1.5
environment, the real train_iris.py, 12 children of a RandomParameterSampling, 4 at a time on a
max_nodes=4 cluster, then the best child's model registered. On docker (real containers) and on
the process backend."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from amlocal.core import Experiment, Model, Workspace
from support import running_at_once

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["docker", "process"])
def backend(request):
    if request.param == "docker":
        request.getfixturevalue("base_image")  # the engine and a base image, or a failure under make test
    return request.param


def test_the_sample_notebook_sweeps_and_registers_the_best_model(backend, tmp_path, monkeypatch):
    example = tmp_path / "examples" / "sweep"
    shutil.copytree(REPO / "examples" / "sweep", example, ignore=shutil.ignore_patterns("sklearn-iris"))
    shutil.copy(REPO / "train_iris.py", tmp_path / "train_iris.py")
    monkeypatch.setenv("AMLOCAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AMLOCAL_BACKEND", backend)
    done = subprocess.run([sys.executable, "sweep_and_register.py"], cwd=example, env=dict(os.environ),
                          capture_output=True, text=True, timeout=1200, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"({backend} backend)" in done.stdout
    assert "[STATUS][INFO]children:" in done.stdout and "Execution Summary" in done.stdout

    ws = Workspace.from_config(path=str(example))
    sweep = next(r for r in Experiment(ws, "train_iris").get_runs() if r.type == "hyperdrive")
    children = list(sweep.get_children())
    assert sweep.get_status() == "Completed" and len(children) == 12
    assert all(child.get_status() == "Completed" for child in children)
    assert running_at_once(children) <= 4
    # the random sampling of a 12-point space, 12 runs: every point once
    points = [json.loads(text) for text in sweep.get_hyperparameters().values()]
    sampled = {(p["--kernel"], float(p["--penalty"])) for p in points}
    assert sampled == {(k, p) for k in ("linear", "rbf", "poly", "sigmoid") for p in (0.5, 1.0, 1.5)}

    best = sweep.get_best_run_by_primary_metric()
    accuracies = {child.id: child.get_metrics()["Accuracy"] for child in children}
    assert accuracies[best.id] == max(accuracies.values()) > 0.9
    arguments = best.get_details()["runDefinition"]["arguments"]
    assert arguments[:4] == ["--kernel", "linear", "--penalty", "1.0"]  # the script's own, then the sampled ones
    assert str(arguments) in done.stdout and f"Best run: {best.id}" in done.stdout
    model = Model(ws, "sklearn-iris")
    assert model.version == 1 and model.run_id == best.id
    assert "outputs/model.joblib" in best.get_file_names()
    logs = best.get_all_logs(destination=str(tmp_path / "logs"))
    driver_log = next(Path(path) for path in logs if path.endswith("azureml-logs/70_driver_log.txt"))
    assert "Accuracy of SVM classifier on test set" in driver_log.read_text()
