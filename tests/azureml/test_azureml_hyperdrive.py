"""HyperDrive on the azureml backend: a real azureml.train.hyperdrive.HyperDriveConfig is what
Azure receives (asserted field by field), and the fake runs the sweep end to end with the
service's semantics."""

import json

import pytest

from amlocal.core import Environment, Experiment, ScriptRunConfig
from amlocal.train.hyperdrive import (BanditPolicy, GridParameterSampling, HyperDriveConfig, MedianStoppingPolicy,
                                      PrimaryMetricGoal, RandomParameterSampling, TruncationSelectionPolicy,
                                      choice, loguniform, uniform)

SCORE = """
import argparse
from azureml.core.run import Run
parser = argparse.ArgumentParser()
parser.add_argument("--kernel", default="linear")
parser.add_argument("--penalty", type=float, default=1.0)
args = parser.parse_args()
Run.get_context().log("Accuracy", {"linear": 0.9, "rbf": 0.95}[args.kernel] + args.penalty / 100)
"""


def trial(project):
    (project / "sweep").mkdir(exist_ok=True)
    (project / "sweep" / "train.py").write_text(SCORE)
    return ScriptRunConfig(source_directory="sweep", script="train.py", arguments=["--kernel", "linear"],
                           environment=Environment("stdlib"))


@pytest.mark.parametrize("sampling, policy", [
    (RandomParameterSampling({"--kernel": choice("linear", "rbf"), "--lr": loguniform(-4, -1)}),
     BanditPolicy(evaluation_interval=2, slack_factor=0.1, delay_evaluation=3)),
    (GridParameterSampling({"--kernel": choice("linear", "rbf")}), MedianStoppingPolicy(evaluation_interval=1)),
    (RandomParameterSampling({"--penalty": uniform(0.5, 2)}), TruncationSelectionPolicy(truncation_percentage=20)),
])
def test_azure_receives_the_sweep_as_azureml_s_own_hyperdrive_config(ws, fake, project, sampling, policy):
    from azureml.train.hyperdrive import HyperDriveConfig as SdkHyperDriveConfig

    hd = HyperDriveConfig(run_config=trial(project), hyperparameter_sampling=sampling, policy=policy,
                          primary_metric_name="Accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                          max_total_runs=4, max_concurrent_runs=2, max_duration_minutes=30)
    Experiment(ws, "hd").submit(hd)

    # the sweep's children are submitted from another thread at once: find the sweep's own submission
    [(experiment, real, tags)] = [s for s in fake.submissions if isinstance(s[1], SdkHyperDriveConfig)]
    assert experiment == "hd"
    assert real._generator_config == hd._generator_config
    assert real._policy_config == hd._policy_config
    assert real._primary_metric_config == {"name": "Accuracy", "goal": "maximize"}
    assert (real._max_total_runs, real._max_concurrent_runs, real._max_duration_minutes) == (4, 2, 30)
    assert real.run_config.script == "train.py" and real.run_config.arguments == ["--kernel", "linear"]


def test_the_fake_runs_the_sweep_as_the_service_does(ws, fake, project):
    space = {"--kernel": choice("linear", "rbf"), "--penalty": choice(0.5, 1.5)}
    hd = HyperDriveConfig(run_config=trial(project), hyperparameter_sampling=GridParameterSampling(space),
                          primary_metric_name="Accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                          max_total_runs=10, max_concurrent_runs=2)
    run = Experiment(ws, "hd").submit(hd)
    run.wait_for_completion(show_output=False)

    children = list(run.get_children())
    assert run.get_status() == "Completed" and len(children) == 4
    best = run.get_best_run_by_primary_metric()
    assert json.loads(run.get_hyperparameters()[best.id]) == {"--kernel": "rbf", "--penalty": 1.5}
    assert best.get_details()["runDefinition"]["arguments"][-4:] == ["--kernel", "rbf", "--penalty", "1.5"]
    assert "azureml-logs/hyperdrive.txt" in run.get_file_names()
