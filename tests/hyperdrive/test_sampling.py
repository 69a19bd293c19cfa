"""Search spaces and what a sweep tries: the SDK's structures and validation, and the seeded
suggestion engine (grid, random, Sobol, Bayesian)."""

import itertools
import json
import math
import statistics
import subprocess
import sys

import pytest

from amlocal.exceptions import HyperDriveConfigException, MissingOptionalDependencyError
from amlocal.train.hyperdrive._suggest import Trial, sample_space_size, suggest
from amlocal.train.hyperdrive.parameter_expressions import (choice, lognormal, loguniform, normal, qlognormal,
                                                            qloguniform, qnormal, quniform, randint, uniform)
from amlocal.train.hyperdrive.run import PrimaryMetricGoal
from amlocal.train.hyperdrive.sampling import (BayesianParameterSampling, GridParameterSampling,
                                               RandomParameterSampling, _sampling_from_dict)

NOTEBOOK_SPACE = {"--kernel": choice("linear", "rbf", "poly", "sigmoid"), "--penalty": choice(0.5, 1, 1.5)}


# -- parameter expressions ---------------------------------------------------------------------

def test_expressions_return_the_sdk_structures():
    assert choice("linear", "rbf") == ["choice", [["linear", "rbf"]]]
    assert choice([16, 32]) == ["choice", [[16, 32]]]
    assert choice(range(1, 5)) == ["choice", [[1, 2, 3, 4]]]
    assert randint(10) == ["randint", [10]]
    assert uniform(0.05, 0.1) == ["uniform", [0.05, 0.1]]
    assert quniform(1, 10, 2) == ["quniform", [1, 10, 2]]
    assert loguniform(-6, -1) == ["loguniform", [-6, -1]]
    assert qloguniform(0, 4, 1) == ["qloguniform", [0, 4, 1]]
    assert normal(10, 3) == ["normal", [10, 3]]
    assert qnormal(10, 3, 2) == ["qnormal", [10, 3, 2]]
    assert lognormal(0, 1) == ["lognormal", [0, 1]]
    assert qlognormal(0, 1, 1) == ["qlognormal", [0, 1, 1]]


@pytest.mark.parametrize("make, message", [
    (lambda: choice(), "Please specify an input for choice"),
    (lambda: choice([]), "choice expects non-empty single list"),
    (lambda: choice([1], 2), "choice expects non-empty single list"),
    (lambda: randint(0), "randint expects a positive number as input"),
    (lambda: randint(2.5), "randint expects a positive number as input"),
    (lambda: uniform(1, 1), "uniform expects min_value < max_value"),
    (lambda: uniform("a", 1), "uniform expects min_value to be a float"),
    (lambda: quniform(0, 10, 0.5), "quniform expects q to be an int"),
    (lambda: loguniform(2, 1), "loguniform expects min_value <= max_value"),
    (lambda: normal(0, -1), "normal expects sigma to be non negative"),
    (lambda: qlognormal(0, 1, "1"), "qlognormal expects q to be an int"),
])
def test_expression_validation_messages(make, message):
    with pytest.raises(HyperDriveConfigException, match=message):
        make()


# -- sampling definitions ----------------------------------------------------------------------

def test_grid_accepts_only_choice():
    with pytest.raises(HyperDriveConfigException, match=r"only the following distributions: \[choice\]"):
        GridParameterSampling({"lr": uniform(0, 1), "batch": choice(8, 9)})


@pytest.mark.parametrize("space, message", [
    ({"lr": loguniform(-6, -1)}, r"only the following distributions: \[choice, quniform, uniform\]"),
    ({"lr": normal(0, 1)}, "only the following distributions"),
    ({"k": choice("a", 1)}, "Either all or none of the 'choice' values should be 'str' type"),
    ({"k": choice([1, [2]])}, "'choice' values should be 'int', 'string' or 'float'"),
    ({"n": quniform(0, 10.5, 1)}, "Expected quniform arguments to be int"),
    ({"n": quniform(0, 1000000, 1)}, "Too many discrete points for quniform"),
])
def test_bayesian_space_validation(space, message):
    with pytest.raises(HyperDriveConfigException, match=message):
        BayesianParameterSampling(space)


def test_bayesian_needs_a_space():
    with pytest.raises(HyperDriveConfigException, match="parameter_space to not be None"):
        BayesianParameterSampling(None)


@pytest.mark.parametrize("space", [{}, {"a": [1, 2]}, {"": choice(1)}, ["--kernel"]])
def test_malformed_spaces_are_rejected(space):
    with pytest.raises(HyperDriveConfigException):
        RandomParameterSampling(space)


def test_random_rule_and_seed_come_from_properties():
    sampling = RandomParameterSampling({"a": uniform(0, 1)}, properties={"rule": "Sobol", "seed": 3})
    assert (sampling.rule, sampling.seed) == ("sobol", 3)
    with pytest.raises(HyperDriveConfigException, match="'random' or 'sobol'"):
        RandomParameterSampling({"a": uniform(0, 1)}, properties={"rule": "halton"})
    with pytest.raises(HyperDriveConfigException, match="non-negative int"):
        RandomParameterSampling({"a": uniform(0, 1)}, properties={"seed": "7"})


@pytest.mark.parametrize("sampling", [
    RandomParameterSampling(NOTEBOOK_SPACE),
    RandomParameterSampling({"a": uniform(0, 1)}, properties={"rule": "sobol", "seed": 1}),
    GridParameterSampling(NOTEBOOK_SPACE),
    BayesianParameterSampling({"lr": uniform(0.05, 0.1), "n": quniform(2, 20, 2)}),
])
def test_sampling_json_round_trip(sampling):
    data = json.loads(json.dumps(sampling.to_json()))
    assert _sampling_from_dict(data) == sampling
    assert data["name"] == type(sampling).SAMPLING_NAME


# -- grid --------------------------------------------------------------------------------------

def test_grid_yields_exactly_the_grid_then_is_exhausted():
    space = {"num_hidden_layers": choice(1, 2, 3), "batch_size": choice(16, 32)}   # the docs' six samples
    sampling = GridParameterSampling(space)
    first = suggest(sampling, [], count=4)
    assert len(first.parameters) == 4 and not first.exhausted
    history = [(p, 0.5, "Completed") for p in first.parameters]
    rest = suggest(sampling, history, count=10)
    tried = first.parameters + rest.parameters
    expected = [dict(zip(space, combo)) for combo in itertools.product([1, 2, 3], [16, 32])]
    assert tried == expected
    assert rest.exhausted
    assert suggest(sampling, history + [(p, None, "Failed") for p in rest.parameters], count=3).parameters == []


# -- random ------------------------------------------------------------------------------------

def test_random_is_reproducible_with_a_seed_and_differs_across_seeds():
    sampling = RandomParameterSampling({"lr": uniform(0.0005, 0.005), "momentum": uniform(0.9, 0.99)})
    assert suggest(sampling, [], 5, seed=11).parameters == suggest(sampling, [], 5, seed=11).parameters
    assert suggest(sampling, [], 5, seed=11).parameters != suggest(sampling, [], 5, seed=12).parameters


def test_random_continues_where_a_restarted_controller_left_off():
    sampling = RandomParameterSampling({"lr": loguniform(-6, -1), "batch": choice(16, 32, 64)})
    all_at_once = suggest(sampling, [], 8, seed=5).parameters
    history = [Trial(p, 0.1, "Completed") for p in all_at_once[:3]]
    assert suggest(sampling, history, 5, seed=5).parameters == all_at_once[3:]


def test_random_over_a_finite_space_draws_each_set_once_then_is_exhausted():
    sampling = RandomParameterSampling(NOTEBOOK_SPACE)
    result = suggest(sampling, [], 20, seed=1)
    assert len(result.parameters) == 12 == sample_space_size(sampling)
    assert len({json.dumps(p, sort_keys=True) for p in result.parameters}) == 12
    assert result.exhausted
    assert suggest(sampling, [], 12, seed=1).parameters != suggest(sampling, [], 12, seed=2).parameters


def draws(expression, n=600, seed=0):
    return [p["x"] for p in suggest(RandomParameterSampling({"x": expression}), [], n, seed=seed).parameters]


def test_random_randint_excludes_the_upper_bound():
    values = draws(randint(4), n=400)[:400]
    assert set(values) == {0, 1, 2, 3}


def test_random_continuous_expressions_follow_their_definitions():
    u = draws(uniform(2, 3))
    assert all(2 <= v <= 3 for v in u) and abs(statistics.fmean(u) - 2.5) < 0.05

    lu = draws(loguniform(-6, -1))             # exp(uniform(-6, -1)): exponents, not bounds
    assert all(math.exp(-6) <= v <= math.exp(-1) for v in lu)
    assert abs(statistics.fmean(math.log(v) for v in lu) - (-3.5)) < 0.15

    n = draws(normal(10, 3))
    assert abs(statistics.fmean(n) - 10) < 0.5 and abs(statistics.stdev(n) - 3) < 0.4

    ln = draws(lognormal(0, 0.5))
    assert all(v > 0 for v in ln) and abs(statistics.fmean(math.log(v) for v in ln)) < 0.1


@pytest.mark.parametrize("expression, q", [
    (quniform(0, 100, 5), 5), (qloguniform(0, 5, 3), 3), (qnormal(50, 20, 4), 4), (qlognormal(2, 1, 2), 2)])
def test_random_quantised_expressions_are_multiples_of_q(expression, q):
    values = draws(expression, n=200)
    assert all(isinstance(v, int) and v % q == 0 for v in values)
    assert len(set(values)) > 3


def test_random_quniform_rounds_uniform_to_q():
    values = draws(quniform(0, 10, 5), n=300)
    assert set(values) == {0, 5, 10}


# -- sobol ---------------------------------------------------------------------------------------

def test_sobol_points_are_balanced_and_reproducible():
    pytest.importorskip("scipy")
    sampling = RandomParameterSampling({"x": uniform(0, 1)}, properties={"rule": "sobol", "seed": 3})
    points = [p["x"] for p in suggest(sampling, [], 16).parameters]
    assert sorted(int(x * 16) for x in points) == list(range(16))   # one point in each 1/16th
    assert points == [p["x"] for p in suggest(sampling, [], 16).parameters]
    history = [({"x": x}, 0.5, "Completed") for x in points[:10]]
    assert [p["x"] for p in suggest(sampling, history, 6).parameters] == points[10:]


def test_sobol_over_a_finite_space_is_exhausted():
    pytest.importorskip("scipy")
    sampling = RandomParameterSampling(NOTEBOOK_SPACE, properties={"rule": "sobol"})
    result = suggest(sampling, [], 30, seed=2)
    assert len(result.parameters) == 12 and result.exhausted


# -- Bayesian ----------------------------------------------------------------------------------

def objective(parameters):
    return -((parameters["lr"] - 0.07) ** 2) * 1000 - abs(parameters["n"] - 10) / 10 + (parameters["bs"] == 32)


def run_bayesian_sweep(seed, trials=24, batch=1):
    sampling = BayesianParameterSampling({"lr": uniform(0.05, 0.1), "bs": choice(16, 32, 64),
                                          "n": quniform(2, 20, 2)})
    history = []
    while len(history) < trials:
        for parameters in suggest(sampling, history, batch, seed=seed, goal=PrimaryMetricGoal.MAXIMIZE).parameters:
            history.append((parameters, objective(parameters), "Completed"))
    return history


def test_bayesian_is_reproducible_with_a_seed():
    pytest.importorskip("optuna")
    first = run_bayesian_sweep(seed=7)
    assert first == run_bayesian_sweep(seed=7)
    assert first != run_bayesian_sweep(seed=8)
    for parameters, _, _ in first:
        assert 0.05 <= parameters["lr"] <= 0.1 and parameters["bs"] in (16, 32, 64)
        assert parameters["n"] in range(2, 21, 2)


def test_bayesian_learns_from_finished_trials():
    pytest.importorskip("optuna")
    history = run_bayesian_sweep(seed=3, trials=40)
    early = statistics.fmean(metric for _, metric, _ in history[:10])    # TPE's random start-up
    late = statistics.fmean(metric for _, metric, _ in history[-10:])
    assert late > early


def test_bayesian_batch_proposals_differ_and_running_trials_are_respected():
    pytest.importorskip("optuna")
    sampling = BayesianParameterSampling({"lr": uniform(0.05, 0.1)})
    batch = suggest(sampling, [], 4, seed=1).parameters
    assert len({p["lr"] for p in batch}) == 4
    running = [(p, None, "Running") for p in batch]
    assert suggest(sampling, running, 2, seed=1).parameters == suggest(sampling, running, 2, seed=1).parameters


def test_missing_optional_extra_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(MissingOptionalDependencyError, match=r"amlocal\[hyperdrive\]"):
        suggest(BayesianParameterSampling({"lr": uniform(0, 1)}), [], 1)
    monkeypatch.setitem(sys.modules, "scipy.stats.qmc", None)
    with pytest.raises(MissingOptionalDependencyError, match=r"pip install 'amlocal\[hyperdrive\]'"):
        suggest(RandomParameterSampling({"a": uniform(0, 1)}, properties={"rule": "sobol"}), [], 1)


def test_importing_hyperdrive_loads_no_numeric_library():
    code = ("import sys, amlocal.train.hyperdrive as hd\n"
            "from amlocal.train.hyperdrive import *\n"
            "from amlocal.train.hyperdrive import runconfig, sampling, policy, run, parameter_expressions\n"
            "from amlocal.train.hyperdrive._suggest import suggest\n"
            "suggest(hd.RandomParameterSampling({'a': hd.uniform(0, 1), 'b': hd.normal(0, 1)}), [], 3)\n"
            "print(sorted(m for m in ('optuna', 'scipy', 'numpy') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
