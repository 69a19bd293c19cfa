"""HyperDriveConfig: the SDK's validation, the children's arguments, and the sweep as JSON."""

import argparse
import json
import warnings

import pytest

from amlocal.core import ScriptRunConfig
from amlocal.exceptions import HyperDriveConfigException, HyperDriveScenarioNotSupportedException
from amlocal.train.hyperdrive import (BanditPolicy, BayesianParameterSampling, GridParameterSampling,
                                      HyperDriveConfig, MedianStoppingPolicy, NoTerminationPolicy, PrimaryMetricGoal,
                                      RandomParameterSampling, TruncationSelectionPolicy, choice, uniform)
from amlocal.train.hyperdrive.runconfig import child_arguments
from amlocal.train.sklearn import SKLearn

SPACE = {"--kernel": choice("linear", "rbf", "poly", "sigmoid"), "--penalty": choice(0.5, 1, 1.5)}


@pytest.fixture
def src():
    return ScriptRunConfig(source_directory="./sklearn-iris", script="train_iris.py",
                           arguments=["--kernel", "linear", "--penalty", 1.0])


def config(src, **overrides):
    values = dict(run_config=src, hyperparameter_sampling=RandomParameterSampling(SPACE),
                  primary_metric_name="Accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                  max_total_runs=12, max_concurrent_runs=4)
    values.update(overrides)
    return HyperDriveConfig(**values)


def test_the_notebook_config_exposes_what_the_controller_reads(src):
    hd = config(src)
    assert hd.run_config is src and hd.estimator is None and hd.trial_config is src
    assert (hd.max_total_runs, hd.max_concurrent_runs, hd.max_duration_minutes) == (12, 4, 10080)
    assert isinstance(hd.policy, NoTerminationPolicy)
    assert hd.primary_metric_goal is PrimaryMetricGoal.MAXIMIZE
    assert hd._primary_metric_config == {"name": "Accuracy", "goal": "maximize"}
    assert hd._generator_config == {"name": "RANDOM", "parameter_space": SPACE}
    assert hd.source_directory == "./sklearn-iris"


def test_max_concurrent_runs_defaults_to_max_total_runs(src):
    assert config(src, max_concurrent_runs=None).max_concurrent_runs == 12


@pytest.mark.parametrize("overrides, message", [
    ({"run_config": None}, "at least one of estimator, run_config, pipeline"),
    ({"estimator": "x"}, "only one of estimator, run_config, pipeline"),
    ({"run_config": "train.py"}, "Expected type ScriptRunConfig for run_config"),
    ({"hyperparameter_sampling": None}, "hyperparameter_sampling to be set"),
    ({"max_total_runs": 0}, "max_total_runs to be an integer between 1 and 1000"),
    ({"max_total_runs": 1001}, "max_total_runs to be an integer between 1 and 1000"),
    ({"max_total_runs": 12.0}, "max_total_runs to be an integer"),
    ({"max_concurrent_runs": 101}, "max_concurrent_runs to be an integer between 1 and 100"),
    ({"max_concurrent_runs": 0}, "max_concurrent_runs to be an integer between 1 and 100"),
    ({"max_duration_minutes": 0}, "max_duration_minutes to be a positive number"),
    ({"primary_metric_name": ""}, "primary_metric_name to be a non-empty string"),
    ({"primary_metric_goal": "best"}, "either 'maximize' or 'minimize'"),
    ({"policy": "bandit"}, "Expected type EarlyTerminationPolicy for policy"),
])
def test_invalid_configs_are_rejected(src, overrides, message):
    with pytest.raises(HyperDriveConfigException, match=message):
        config(src, **overrides)


def test_pipeline_is_refused_with_a_way_out(src):
    with pytest.raises(HyperDriveScenarioNotSupportedException, match="run_config="):
        config(src, run_config=None, pipeline=object())


@pytest.mark.parametrize("policy", [BanditPolicy(slack_factor=0.1), MedianStoppingPolicy(),
                                    TruncationSelectionPolicy(20)])
def test_bayesian_forbids_early_termination(src, policy):
    sampling = BayesianParameterSampling({"lr": uniform(0.05, 0.1)})
    with pytest.raises(HyperDriveConfigException, match="Bayesian sampling does not support early termination"):
        config(src, hyperparameter_sampling=sampling, policy=policy, max_total_runs=20)


def test_bayesian_accepts_no_policy_and_warns_like_the_sdk(src):
    sampling = BayesianParameterSampling({"lr": uniform(0.05, 0.1), "bs": choice(16, 32)})
    with pytest.warns(UserWarning, match="recommend using a maximum number of runs"):
        hd = config(src, hyperparameter_sampling=sampling, max_total_runs=12)
    assert isinstance(hd.policy, NoTerminationPolicy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config(src, hyperparameter_sampling=sampling, policy=NoTerminationPolicy(), max_total_runs=40)


def test_goal_may_be_named(src):
    assert config(src, primary_metric_goal="minimize").primary_metric_goal is PrimaryMetricGoal.MINIMIZE
    assert PrimaryMetricGoal.from_str("MAXIMIZE") is PrimaryMetricGoal.MAXIMIZE


def test_duration_over_the_service_limit_is_capped_with_a_warning(src):
    with pytest.warns(UserWarning, match="overridden with 10080 minutes"):
        assert config(src, max_duration_minutes=20000).max_duration_minutes == 10080


class FakeHyperDriveRun:
    def __init__(self, run_id, max_total_runs=10):
        self.id = run_id
        self.hyperdrive_config = type("C", (), {"max_total_runs": max_total_runs})()


def test_resume_runs_are_kept_and_checked(src):
    parent = FakeHyperDriveRun("hd_1")
    hd = config(src, resume_from=parent, resume_child_runs=["hd_1_0", "hd_1_3"])
    assert hd.resume_from == [parent] and hd.resume_child_runs == ["hd_1_0", "hd_1_3"]
    with pytest.raises(HyperDriveConfigException, match="not exceed than 5"):
        config(src, resume_from=[FakeHyperDriveRun(f"hd_{i}") for i in range(6)])
    with pytest.raises(HyperDriveConfigException, match="duplicate"):
        config(src, resume_from=[parent, FakeHyperDriveRun("hd_1")])
    with pytest.raises(HyperDriveConfigException, match="should not be greater than 1000"):
        config(src, max_total_runs=600, resume_from=[FakeHyperDriveRun("hd_9", max_total_runs=500)])
    with pytest.raises(HyperDriveConfigException, match="resume_child_runs to not exceed max_total_runs"):
        config(src, max_total_runs=1, resume_child_runs=["a", "b"])


# -- children's arguments ----------------------------------------------------------------------

def parse(arguments):
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel")
    parser.add_argument("--penalty", type=float)
    return parser.parse_args(arguments)


def test_script_run_config_arguments_keep_the_base_then_the_sampled_values(src):
    arguments = config(src).child_arguments({"--kernel": "rbf", "--penalty": 1.5})
    assert arguments == ["--kernel", "linear", "--penalty", "1.0", "--kernel", "rbf", "--penalty", "1.5"]
    parsed = parse(arguments)
    assert (parsed.kernel, parsed.penalty) == ("rbf", 1.5)       # the sampled values win


def test_estimator_arguments_drop_the_overridden_script_params():
    est = SKLearn(source_directory="./sklearn-iris", entry_script="train_iris.py",
                  script_params={"--kernel": "linear", "--penalty": 1.0, "--data": "iris"})
    hd = HyperDriveConfig(estimator=est, hyperparameter_sampling=GridParameterSampling(SPACE),
                          primary_metric_name="Accuracy", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                          max_total_runs=12)
    assert hd.child_arguments({"--kernel": "poly", "--penalty": 0.5}) == [
        "--data", "iris", "--kernel", "poly", "--penalty", "0.5"]


def test_parameters_named_without_dashes_are_passed_as_flags():
    # the docs' layout: two base items, then three sampled parameters read back at 3, 5 and 7
    arguments = child_arguments(["--data-folder", "/mnt/data"],
                                {"learning_rate": 0.01, "keep_probability": 0.07, "batch_size": 64})
    assert arguments == ["--data-folder", "/mnt/data", "--learning_rate", "0.01", "--keep_probability", "0.07",
                         "--batch_size", "64"]
    assert (arguments[3], arguments[5], arguments[7]) == ("0.01", "0.07", "64")


def test_non_scalar_base_arguments_pass_through():
    marker = object()
    assert child_arguments(["--data", marker], {"--k": 1}) == ["--data", marker, "--k", "1"]


# -- the sweep as JSON -------------------------------------------------------------------------

@pytest.mark.parametrize("sampling, policy", [
    (RandomParameterSampling(SPACE, properties={"seed": 3}), BanditPolicy(slack_factor=0.1, delay_evaluation=5)),
    (GridParameterSampling(SPACE), TruncationSelectionPolicy(20, evaluation_interval=2)),
    (BayesianParameterSampling({"lr": uniform(0.05, 0.1)}), None),
])
def test_config_round_trips_through_json(src, sampling, policy):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hd = config(src, hyperparameter_sampling=sampling, policy=policy, primary_metric_goal="minimize",
                    max_duration_minutes=30, resume_child_runs=["old_run_1"], max_total_runs=40)
    data = json.loads(json.dumps(hd.to_dict()))
    rebuilt = HyperDriveConfig.from_dict(data)
    assert rebuilt.to_dict() == hd.to_dict()
    assert rebuilt.hyperparameter_sampling == sampling
    assert rebuilt.policy == (policy or NoTerminationPolicy())
    assert rebuilt.primary_metric_goal is PrimaryMetricGoal.MINIMIZE
    assert (rebuilt.max_total_runs, rebuilt.max_concurrent_runs, rebuilt.max_duration_minutes) == (40, 4, 30)
    assert rebuilt.run_config is None and rebuilt.source_directory is None
    assert rebuilt.resume_child_runs == ["old_run_1"]
    assert rebuilt.child_arguments({"--kernel": "rbf"}, base_arguments=["--x", "1"]) == [
        "--x", "1", "--kernel", "rbf"]


def test_from_dict_rejects_an_unknown_version(src):
    data = config(src).to_dict()
    data["version"] = 99
    with pytest.raises(HyperDriveConfigException, match="version"):
        HyperDriveConfig.from_dict(data)
