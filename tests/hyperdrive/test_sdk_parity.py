"""The same calls against the real ``azureml.train.hyperdrive`` (the ``azure`` extra) and ours:
same signatures, same JSON the service receives, same accept/reject decisions."""

import inspect
import warnings

import pytest

sdk = pytest.importorskip("azureml.train.hyperdrive")
# The SDK's own dependencies warn about their YAML API on import; not ours to see.
pytestmark = pytest.mark.filterwarnings("ignore:(?s).*will be removed:PendingDeprecationWarning",
                                        "ignore:(?s).*will be removed:DeprecationWarning")

import amlocal.train.hyperdrive as ours  # noqa: E402
from amlocal.exceptions import HyperDriveConfigException  # noqa: E402

EXPRESSION_CALLS = [
    ("choice", (1, 2, 3)), ("choice", ([16, 32],)), ("choice", (range(1, 5),)), ("choice", ()),
    ("choice", ([],)), ("choice", ([1], 2)), ("randint", (5,)), ("randint", (0,)), ("randint", (1.5,)),
    ("uniform", (0.05, 0.1)), ("uniform", (1, 1)), ("quniform", (1, 10, 2)), ("quniform", (1, 10, 2.5)),
    ("loguniform", (-6, -1)), ("loguniform", (2, 1)), ("qloguniform", (0, 4, 1)), ("normal", (10, 3)),
    ("normal", (0, -1)), ("qnormal", (10, 3, 2)), ("lognormal", (0, 1)), ("qlognormal", (0, 1, 1)),
    ("qlognormal", (0, -1, 1)),
]


def outcome(call):
    try:
        return ("ok", call())
    except HyperDriveConfigException:
        return ("error", None)
    except Exception as err:  # the SDK's own HyperDriveConfigException
        if type(err).__name__ == "HyperDriveConfigException":
            return ("error", None)
        raise


@pytest.mark.parametrize("name, args", EXPRESSION_CALLS)
def test_parameter_expressions_match_the_sdk(name, args):
    assert outcome(lambda: getattr(ours, name)(*args)) == outcome(lambda: getattr(sdk, name)(*args))


SPACES = [
    {"--kernel": sdk.choice("linear", "rbf"), "--penalty": sdk.choice(0.5, 1, 1.5)},
    {"lr": sdk.uniform(0.05, 0.1), "n": sdk.quniform(2, 20, 2)},
    {"lr": sdk.loguniform(-6, -1)},
    {"k": sdk.choice("a", 1)},
    {"n": sdk.quniform(0, 10000000, 1)},
]


@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("cls", ["RandomParameterSampling", "GridParameterSampling", "BayesianParameterSampling"])
def test_samplings_match_the_sdk(cls, space):
    theirs = outcome(lambda: getattr(sdk, cls)(space).to_json())
    assert outcome(lambda: getattr(ours, cls)(space).to_json()) == theirs


POLICY_CALLS = [
    ("BanditPolicy", dict(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5)),
    ("BanditPolicy", dict(slack_amount=0.2, evaluation_interval=100)),
    ("BanditPolicy", dict(evaluation_interval=1)),
    ("BanditPolicy", dict(slack_factor=0.1, slack_amount=0.2)),
    ("BanditPolicy", dict(slack_factor=0.1, evaluation_interval=2.0)),
    ("MedianStoppingPolicy", dict(evaluation_interval=1, delay_evaluation=5)),
    ("MedianStoppingPolicy", dict(delay_evaluation="5")),
    ("TruncationSelectionPolicy", dict(truncation_percentage=20, evaluation_interval=1, delay_evaluation=5)),
    ("TruncationSelectionPolicy", dict(truncation_percentage=100)),
    ("TruncationSelectionPolicy", dict(truncation_percentage=0)),
    ("NoTerminationPolicy", dict()),
]


@pytest.mark.parametrize("cls, kwargs", POLICY_CALLS)
def test_policies_match_the_sdk(cls, kwargs):
    assert outcome(lambda: getattr(ours, cls)(**kwargs).to_json()) == \
        outcome(lambda: getattr(sdk, cls)(**kwargs).to_json())


@pytest.mark.parametrize("name", ["HyperDriveConfig", "RandomParameterSampling", "GridParameterSampling",
                                  "BayesianParameterSampling", "BanditPolicy", "MedianStoppingPolicy",
                                  "TruncationSelectionPolicy", "NoTerminationPolicy", "choice", "randint",
                                  "uniform", "quniform", "loguniform", "qloguniform", "normal", "qnormal",
                                  "lognormal", "qlognormal"])
def test_signatures_match_the_sdk(name):
    assert inspect.signature(getattr(ours, name)) == inspect.signature(getattr(sdk, name))


def test_public_names_match_the_sdk():
    assert set(sdk.__all__) - set(ours.__all__) == set()


def test_primary_metric_goal_matches_the_sdk():
    assert [g.name for g in ours.PrimaryMetricGoal] == [g.name for g in sdk.PrimaryMetricGoal]
    assert [g.value for g in ours.PrimaryMetricGoal] == [g.value for g in sdk.PrimaryMetricGoal]
    assert ours.PrimaryMetricGoal.from_str("Minimize").name == sdk.PrimaryMetricGoal.from_str("Minimize").name


def test_hyperdrive_config_sends_the_same_configuration():
    from azureml.core import ScriptRunConfig as SdkScriptRunConfig

    from amlocal.core import ScriptRunConfig

    def build(hd, src_cls):
        src = src_cls(source_directory=".", script="train_iris.py", arguments=["--kernel", "linear"])
        space = {"--kernel": hd.choice("linear", "rbf"), "--penalty": hd.choice(0.5, 1, 1.5)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            config = hd.HyperDriveConfig(run_config=src, hyperparameter_sampling=hd.GridParameterSampling(space),
                                         policy=hd.BanditPolicy(slack_factor=0.15, evaluation_interval=1,
                                                                delay_evaluation=10),
                                         primary_metric_name="Accuracy",
                                         primary_metric_goal=hd.PrimaryMetricGoal.MAXIMIZE, max_total_runs=6)
        return (config._generator_config, config._policy_config, config._primary_metric_config,
                config._max_total_runs, config._max_concurrent_runs, config._max_duration_minutes)

    assert build(ours, ScriptRunConfig) == build(sdk, SdkScriptRunConfig)
