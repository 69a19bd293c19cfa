"""HyperDrive sweeps end to end on the process backend: real child runs, real metrics, the
controller as a detached process. (tests/hyperdrive/test_notebook_flow.py runs the sample
notebook's own sweep on docker and process.)"""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from amlocal.core import Environment, Experiment, Run, ScriptRunConfig, Workspace
from amlocal.train.hyperdrive import (BanditPolicy, BayesianParameterSampling, GridParameterSampling,
                                      HyperDriveConfig, PrimaryMetricGoal, RandomParameterSampling, choice,
                                      uniform)
from amlocal.widgets import RunDetails

from amlocal.local import command_lines

from support import running_at_once, supervisor_pids, wait_until

SCORE = """
import argparse, os, time
from azureml.core.run import Run
parser = argparse.ArgumentParser()
parser.add_argument("--kernel", default="linear")
parser.add_argument("--penalty", type=float, default=1.0)
parser.add_argument("--fail", default="no")
args = parser.parse_args()
run = Run.get_context()
if args.fail == "yes":
    raise SystemExit("asked to fail")
accuracy = {"linear": 0.9, "rbf": 0.95, "poly": 0.8, "sigmoid": 0.6}[args.kernel] + args.penalty / 100
run.log("Accuracy", accuracy)
os.makedirs("outputs", exist_ok=True)
open("outputs/model.joblib", "w").write(f"{args.kernel} {args.penalty}")
"""


@pytest.fixture
def ws(project):
    return Workspace.from_config(backend="process")


def trial(project, body=SCORE, arguments=("--kernel", "linear", "--penalty", 1.0)):
    folder = project / "sweep"
    folder.mkdir(exist_ok=True)
    (folder / "train.py").write_text(textwrap.dedent(body))
    return ScriptRunConfig(source_directory=str(folder), script="train.py", arguments=list(arguments),
                           environment=Environment("stdlib"))


def sweep(src, sampling, total, concurrent=4, policy=None, goal=PrimaryMetricGoal.MAXIMIZE, metric="Accuracy"):
    return HyperDriveConfig(run_config=src, hyperparameter_sampling=sampling, policy=policy,
                            primary_metric_name=metric, primary_metric_goal=goal, max_total_runs=total,
                            max_concurrent_runs=concurrent)


def test_the_notebook_sweep_picks_and_registers_the_best_child(ws, project):
    space = {"--kernel": choice("linear", "rbf", "poly", "sigmoid"), "--penalty": choice(0.5, 1, 1.5)}
    hd = sweep(trial(project), RandomParameterSampling(space), total=12, concurrent=4)

    run = Experiment(ws, "sweep").submit(hd)
    assert run.type == "hyperdrive" and run.id.startswith("HD_")
    run.wait_for_completion(show_output=False)

    children = list(run.get_children())
    assert run.get_status() == "Completed" and len(children) == 12
    assert {child.id for child in children} == {f"{run.id}_{i}" for i in range(12)}
    assert running_at_once(children) <= 4
    best = run.get_best_run_by_primary_metric()
    assert best.get_metrics()["Accuracy"] == pytest.approx(0.965)
    arguments = best.get_details()["runDefinition"]["arguments"]
    assert arguments[-4:] == ["--kernel", "rbf", "--penalty", "1.5"]
    hyperparameters = run.get_hyperparameters()
    assert json.loads(hyperparameters[best.id]) == {"--kernel": "rbf", "--penalty": 1.5}
    ranked = run.get_children_sorted_by_primary_metric(top=3)
    assert [entry["best_primary_metric"] for entry in ranked] == sorted(
        [entry["best_primary_metric"] for entry in ranked], reverse=True)
    assert ranked[0]["run_id"] == best.id and ranked[0]["status"] == "Completed"
    assert set(run.get_metrics()) == {child.id for child in children}
    model = best.register_model(model_name="sklearn-iris", model_path="outputs/model.joblib")
    assert (model.version, model.run_id) == (1, best.id)
    # the parent and its children from any process
    again = Run.get(ws, run.id)
    assert again.type == "hyperdrive" and again.hyperdrive_config.primary_metric_name == "Accuracy"
    assert len(list(Experiment(ws, "sweep").get_runs())) == 1
    assert len(list(Experiment(ws, "sweep").get_runs(include_children=True))) == 13


def test_show_output_prints_the_sweep_s_progress(ws, project, capsys):
    hd = sweep(trial(project), GridParameterSampling({"--kernel": choice("linear", "rbf")}), total=5)
    run = Experiment(ws, "sweep").submit(hd)
    run.wait_for_completion(show_output=True)
    out = capsys.readouterr().out
    assert "Streaming azureml-logs/hyperdrive.txt" in out
    assert "Scheduling job" in out and "best Accuracy so far" in out and "Execution Summary" in out


def test_grid_sampling_runs_exactly_the_grid(ws, project):
    space = {"--kernel": choice("linear", "rbf", "poly"), "--penalty": choice(0.5, 1.5)}
    run = Experiment(ws, "grid").submit(sweep(trial(project), GridParameterSampling(space), total=20))
    run.wait_for_completion()

    tried = sorted(tuple(sorted(json.loads(p).items())) for p in run.get_hyperparameters().values())
    grid = sorted(tuple(sorted({"--kernel": k, "--penalty": p}.items()))
                  for k in ("linear", "rbf", "poly") for p in (0.5, 1.5))
    assert tried == grid  # six children, though max_total_runs is 20
    assert run.get_status() == "Completed"


def test_on_a_tie_the_earliest_child_is_the_best_everywhere(ws, project):
    same = "from azureml.core.run import Run\nRun.get_context().log('Accuracy', 0.9)\n"
    space = {"--kernel": choice("linear", "rbf", "poly"), "--penalty": choice(0.5, 1.5)}
    run = Experiment(ws, "tie").submit(sweep(trial(project, body=same), GridParameterSampling(space), total=6))
    run.wait_for_completion()

    first = f"{run.id}_0"
    assert run.get_best_run_by_primary_metric().id == first
    assert run.get_children_sorted_by_primary_metric(top=1)[0]["run_id"] == first
    best_so_far = Run.get_metrics(run, "best_child_by_primary_metric")["best_child_by_primary_metric"]
    assert best_so_far["run_id"][-1] == first


def test_bayesian_sampling_is_reproducible_with_a_seed(ws, project):
    pytest.importorskip("optuna")

    def parameters():
        sampling = BayesianParameterSampling({"--penalty": uniform(0, 10)}, properties={"seed": 42})
        run = Experiment(ws, "bayes").submit(sweep(trial(project), sampling, total=5, concurrent=1))
        run.wait_for_completion()
        values = run.get_hyperparameters()
        return [json.loads(values[f"{run.id}_{i}"]) for i in range(5)]

    assert parameters() == parameters()


def test_a_bandit_policy_cancels_a_clearly_worse_child_with_the_reason(ws, project):
    body = """
        import argparse, time
        from azureml.core.run import Run
        parser = argparse.ArgumentParser()
        parser.add_argument("--quality", type=float)
        args = parser.parse_args()
        run = Run.get_context()
        for step in range(40):
            run.log("Accuracy", args.quality)
            time.sleep(0.25 if args.quality < 0.5 else 0.05)
        """
    policy = BanditPolicy(evaluation_interval=1, slack_factor=0.1, delay_evaluation=2)
    space = {"--quality": choice(0.9, 0.2)}
    run = Experiment(ws, "bandit").submit(sweep(trial(project, body, arguments=()), GridParameterSampling(space),
                                                total=2, concurrent=2, policy=policy))
    run.wait_for_completion()

    by_quality = {json.loads(p)["--quality"]: child for child, p in run.get_hyperparameters().items()}
    worse, better = Run.get(ws, by_quality[0.2]), Run.get(ws, by_quality[0.9])
    assert better.get_status() == "Completed"
    assert worse.get_status() == "Canceled"
    message = worse.get_details()["error"]["message"]
    assert "Bandit" in message or "slack" in message
    assert len(worse.get_metrics()["Accuracy"]) < 40
    assert run.get_status() == "Completed"


def test_canceling_the_sweep_cancels_every_child(ws, project):
    body = "import time\ntime.sleep(60)\n"
    hd = sweep(trial(project, body, arguments=()), GridParameterSampling({"--x": choice(1, 2, 3)}), total=3,
               concurrent=2)
    run = Experiment(ws, "cancel").submit(hd)
    wait_until(lambda: sum(c.get_status() == "Running" for c in run.get_children()) == 2, 60, "two children running")

    assert run.cancel() is True
    run.wait_for_completion(raise_on_error=False)

    assert run.get_status() == "Canceled"
    children = list(run.get_children())
    assert children and all(child.get_status() == "Canceled" for child in children)


def test_the_sweep_ends_failed_only_when_every_child_failed(ws, project):
    some = Experiment(ws, "fail").submit(sweep(trial(project), GridParameterSampling({"--fail": choice("yes", "no")}),
                                               total=2))
    every = Experiment(ws, "fail").submit(sweep(trial(project), GridParameterSampling({"--fail": choice("yes")}),
                                                total=1))
    some.wait_for_completion()
    assert some.get_status() == "Completed"
    every.wait_for_completion(raise_on_error=False)
    assert every.get_status() == "Failed"
    assert "Every child of the sweep failed" in every.get_details()["error"]["message"]


def test_the_sweep_goes_on_when_the_submitting_process_exits(ws, project):
    src_dir = project / "sweep"
    trial(project)
    submitter = textwrap.dedent(f"""
        from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace
        from amlocal.train.hyperdrive import GridParameterSampling, HyperDriveConfig, PrimaryMetricGoal, choice
        ws = Workspace.from_config(backend="process")
        src = ScriptRunConfig(source_directory={str(src_dir)!r}, script="train.py", environment=Environment("s"))
        hd = HyperDriveConfig(run_config=src, hyperparameter_sampling=GridParameterSampling(
            {{"--kernel": choice("linear", "rbf", "poly")}}), primary_metric_name="Accuracy",
            primary_metric_goal=PrimaryMetricGoal.MAXIMIZE, max_total_runs=3, max_concurrent_runs=1)
        print(Experiment(ws, "detached").submit(hd).id)
        """)
    parent_id = subprocess.run([sys.executable, "-c", submitter], capture_output=True, text=True,
                               check=True).stdout.strip().splitlines()[-1]

    run = Run.get(ws, parent_id)
    run.wait_for_completion()

    assert run.get_status() == "Completed" and len(list(run.get_children())) == 3


WAITS_FOR_GO = """
import argparse, os, time
from azureml.core.run import Run
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float)
parser.add_argument("--go")
args = parser.parse_args()
while not os.path.exists(args.go):
    time.sleep(0.05)
Run.get_context().log("Accuracy", args.x)
"""


def test_the_children_outlive_a_killed_controller_and_the_sweep_goes_on(ws, project, tmp_path):
    go = tmp_path / "go"
    hd = sweep(trial(project, WAITS_FOR_GO, arguments=("--go", str(go))), GridParameterSampling(
        {"--x": choice(0.1, 0.2, 0.3)}), total=3, concurrent=2)
    run = Experiment(ws, "controller-killed").submit(hd)
    running = wait_until(lambda: [c for c in run.get_children() if c.get_status() == "Running"] if sum(
        c.get_status() == "Running" for c in run.get_children()) == 2 else None, 60, "two children running")
    [controller] = supervisor_pids(run.id)
    followers = {child.id: supervisor_pids(child.id) for child in running}
    commands = dict(command_lines())
    for child_id, pids in followers.items():
        [pid] = pids
        assert pid != controller
        # started as a fork of the controller's process (no interpreter start): its command line is the controller's
        assert commands[pid] == commands[controller], child_id

    os.kill(controller, signal.SIGKILL)
    # nothing the controller started keeps the sweep's lock: only a process adopting the sweep takes it
    wait_until(lambda: all(b"--adopt" in dict(command_lines()).get(pid, [])
                           for pid in supervisor_pids(run.id)), 30, "no process but an adopter to hold the sweep")
    assert all(c.get_status() == "Running" for c in running)
    assert {child.id: supervisor_pids(child.id) for child in running} == followers
    go.touch()
    wait_until(lambda: run.get_status() in ("Completed", "Failed", "Canceled"), 120, "the sweep to end")

    assert run.get_status() == "Completed"
    children = list(run.get_children())
    assert len(children) == 3 and all(child.get_status() == "Completed" for child in children)
    assert running_at_once(children) <= 2


def test_run_details_prints_the_children_outside_a_notebook(ws, project, capsys):
    hd = sweep(trial(project), GridParameterSampling({"--kernel": choice("linear", "rbf")}), total=2)
    run = Experiment(ws, "widget").submit(hd)
    run.wait_for_completion()

    RunDetails(run).show()

    out = capsys.readouterr().out
    assert run.id in out and "--kernel" in out and "Accuracy" in out
    assert out.count("Completed") >= 3
