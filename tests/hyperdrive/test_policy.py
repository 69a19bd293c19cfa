"""Early termination rules, from the cases Azure ML's docs and the SDK's docstrings work through
(how-to-tune-hyperparameters-v1 "Specify early termination policy"; BanditPolicy,
MedianStoppingPolicy and TruncationSelectionPolicy class remarks)."""

import pytest

from amlocal.exceptions import HyperDriveConfigException, InvalidArgumentError
from amlocal.train.hyperdrive.policy import (BanditPolicy, MedianStoppingPolicy, NoTerminationPolicy,
                                             TruncationSelectionPolicy, _policy_from_dict, evaluate)
from amlocal.train.hyperdrive.run import PrimaryMetricGoal

MAX, MIN = PrimaryMetricGoal.MAXIMIZE, PrimaryMetricGoal.MINIMIZE


def cancelled(decisions):
    return sorted(d.run_id for d in decisions)


def flat(value, n):
    return [value] * n


# -- Bandit ------------------------------------------------------------------------------------

def test_bandit_docs_case_slack_factor_at_interval_10():
    # "best performing run at interval 10 reported 0.8 ... slack_factor of 0.2, any training runs
    # whose best metric at interval 10 is less than 0.66 (0.8/(1+slack_factor)) will be terminated"
    policy = BanditPolicy(slack_factor=0.2, evaluation_interval=10)
    series = {"best": flat(0.5, 9) + [0.8], "low": flat(0.65, 10), "within": flat(0.67, 10)}
    decisions = evaluate(policy, series, MAX, metric_name="AUC")
    assert cancelled(decisions) == ["low"]
    assert decisions[0].interval == 10
    assert "0.65" in decisions[0].reason and "0.8" in decisions[0].reason and "AUC" in decisions[0].reason


def test_bandit_sdk_case_slack_amount():
    # "slack_amount = 0.2 ... best performing run with an AUC of 0.8 after 100 intervals, then any
    # run with an AUC less than 0.6 (0.8 - 0.2) after 100 iterations will be terminated"
    policy = BanditPolicy(slack_amount=0.2, evaluation_interval=100)
    series = {"run3": flat(0.8, 100), "a": flat(0.59, 100), "b": flat(0.61, 100)}
    assert cancelled(evaluate(policy, series, MAX)) == ["a"]


def test_bandit_delay_evaluation_first_applies_at_the_delay():
    # "If delay_evaluation = 200, then the first time the policy will be applied is at interval 200."
    policy = BanditPolicy(slack_factor=0.2, evaluation_interval=100, delay_evaluation=200)
    at_150 = {"best": flat(0.8, 150), "bad": flat(0.1, 150)}
    assert evaluate(policy, at_150, MAX) == []
    at_200 = {"best": flat(0.8, 200), "bad": flat(0.1, 200)}
    assert cancelled(evaluate(policy, at_200, MAX)) == ["bad"]


def test_bandit_docs_example_every_interval_from_5_at_91_percent():
    # BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5): "applied at every
    # interval ... starting at evaluation interval 5. Any run whose best metric is less than
    # (1/(1+0.1) or 91% of the best performing run will be terminated."
    policy = BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5)
    four = {"best": flat(1.0, 4), "bad": flat(0.5, 4)}
    assert evaluate(policy, four, MAX) == []
    five = {"best": flat(1.0, 5), "at_90": flat(0.90, 5), "at_92": flat(0.92, 5)}
    assert cancelled(evaluate(policy, five, MAX)) == ["at_90"]


@pytest.mark.parametrize("policy, kept, dropped", [
    (BanditPolicy(slack_factor=0.5), 0.29, 0.31),   # threshold 0.2 * (1 + 0.5) = 0.3
    (BanditPolicy(slack_amount=0.1), 0.29, 0.31),   # threshold 0.2 + 0.1 = 0.3
])
def test_bandit_minimize_uses_the_mirrored_thresholds(policy, kept, dropped):
    series = {"best": [0.2], "kept": [kept], "dropped": [dropped]}
    assert cancelled(evaluate(policy, series, MIN)) == ["dropped"]
    assert cancelled(evaluate(policy, series, "minimize")) == ["dropped"]


def test_bandit_compares_a_young_run_with_others_at_the_same_interval():
    policy = BanditPolicy(slack_factor=0.1)
    # The old run reached 0.9 only at interval 10; at interval 2 its best was 0.5, and
    # 0.48 >= 0.5 / 1.1, so the young run goes on.
    series = {"old": [0.4, 0.5] + flat(0.9, 8), "young": [0.3, 0.48]}
    assert evaluate(policy, series, MAX, running=["young"]) == []
    series["young"] = [0.3, 0.44]
    assert cancelled(evaluate(policy, series, MAX, running=["young"])) == ["young"]


def test_bandit_uses_a_runs_best_value_not_its_last():
    policy = BanditPolicy(slack_factor=0.2)
    series = {"best": [0.8, 0.8, 0.8], "dipped": [0.75, 0.2, 0.1]}
    assert evaluate(policy, series, MAX) == []


def test_evaluation_interval_counts_metric_reports():
    policy = BanditPolicy(slack_amount=0.0, evaluation_interval=3)
    two = {"best": [1.0, 1.0], "bad": [0.0, 0.0]}
    assert evaluate(policy, two, MAX) == []            # intervals 1, 2: not an evaluation point
    three = {"best": [1.0, 1.0, 1.0], "bad": [0.0, 0.0, 0.0]}
    assert cancelled(evaluate(policy, three, MAX)) == ["bad"]


def test_step_value_pairs_are_ordered_reports():
    policy = BanditPolicy(slack_factor=0.2, evaluation_interval=2)
    series = {"best": [(10, 0.8), (20, 0.8)], "bad": [(0, 0.1), (5, 0.1)]}
    assert cancelled(evaluate(policy, series, MAX)) == ["bad"]


def test_only_running_children_are_cancelled():
    policy = BanditPolicy(slack_factor=0.1)
    series = {"best": [0.9], "done_bad": [0.1], "running_bad": [0.1]}
    assert cancelled(evaluate(policy, series, MAX, running=["best", "running_bad"])) == ["running_bad"]


def test_the_best_run_is_never_cancelled_even_with_negative_metrics():
    policy = BanditPolicy(slack_factor=0.5)
    series = {"best": [-1.0], "worse": [-3.0]}   # best / 1.5 = -0.67 lies above the best itself
    assert cancelled(evaluate(policy, series, MAX)) == ["worse"]


# -- Median stopping ---------------------------------------------------------------------------

def test_median_stopping_docs_case_from_interval_5():
    # MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=5): "A run is stopped at interval
    # 5 if its best primary metric is worse than the median of the running averages over
    # intervals 1:5 across all training runs."
    policy = MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=5)
    series = {"a": flat(0.5, 5), "b": flat(0.7, 5), "c": flat(0.6, 5), "d": flat(0.5, 4) + [0.52]}
    # running averages: a 0.5, b 0.7, c 0.6, d 0.504 -> median (0.504 + 0.6) / 2 = 0.552
    assert cancelled(evaluate(policy, series, MAX)) == ["a", "d"]
    assert evaluate(policy, {k: v[:4] for k, v in series.items()}, MAX) == []


def test_median_stopping_compares_best_value_with_median_of_averages():
    policy = MedianStoppingPolicy()
    # late_riser's average (0.4) is the lowest, but its best (0.9) beats the median (0.5)
    series = {"steady_low": [0.3, 0.3, 0.3], "steady_mid": [0.5, 0.5, 0.5], "late_riser": [0.1, 0.2, 0.9],
              "steady_high": [0.6, 0.6, 0.6]}
    assert cancelled(evaluate(policy, series, MAX)) == ["steady_low"]


def test_median_stopping_minimize():
    policy = MedianStoppingPolicy()
    series = {"a": [1.0], "b": [2.0], "c": [3.0]}   # median 2.0; c is worse (higher)
    assert cancelled(evaluate(policy, series, MIN)) == ["c"]


def test_median_stopping_never_stops_a_lone_run():
    assert evaluate(MedianStoppingPolicy(), {"only": [0.1, 0.0, 0.05]}, MAX) == []


# -- Truncation selection ----------------------------------------------------------------------

def test_truncation_docs_case_lowest_20_percent_at_interval_5():
    # TruncationSelectionPolicy(evaluation_interval=1, truncation_percentage=20, delay_evaluation=5):
    # "A run terminates at interval 5 if its performance at interval 5 is in the lowest 20% of
    # performance of all runs at interval 5"
    policy = TruncationSelectionPolicy(truncation_percentage=20, evaluation_interval=1, delay_evaluation=5)
    series = {f"r{i}": flat(0.1 * i, 5) for i in range(1, 6)}
    assert evaluate(policy, {k: v[:4] for k, v in series.items()}, MAX) == []
    decisions = evaluate(policy, series, MAX)
    assert cancelled(decisions) == ["r1"]
    assert "20%" in decisions[0].reason and "1 of 5" in decisions[0].reason


@pytest.mark.parametrize("runs, percentage, expected", [
    (4, 20, 0),     # 4 * 20% = 0.8 -> rounds down to none
    (5, 20, 1),
    (9, 20, 1),     # 1.8 -> 1
    (10, 20, 2),
    (10, 99, 9),
    (3, 50, 1),
])
def test_truncation_count_rounds_down(runs, percentage, expected):
    series = {f"r{i:02d}": [float(i)] for i in range(runs)}
    decisions = evaluate(TruncationSelectionPolicy(percentage), series, MAX)
    assert cancelled(decisions) == [f"r{i:02d}" for i in range(expected)]


def test_truncation_minimize_cancels_the_highest():
    series = {"a": [1.0], "b": [2.0], "c": [3.0], "d": [4.0], "e": [5.0]}
    assert cancelled(evaluate(TruncationSelectionPolicy(20), series, MIN)) == ["e"]


def test_truncation_does_not_rank_a_young_run_against_older_runs_later_values():
    policy = TruncationSelectionPolicy(50)
    # At interval 1 only old_a, old_b and young are ranked; old runs' later values do not count.
    series = {"old_a": [0.5, 0.9, 0.9], "old_b": [0.6, 0.9, 0.9], "young": [0.55]}
    assert evaluate(policy, series, MAX, running=["young"]) == []
    series["young"] = [0.4]
    assert cancelled(evaluate(policy, series, MAX, running=["young"])) == ["young"]


def test_truncation_counts_finished_runs_but_not_younger_running_ones():
    policy = TruncationSelectionPolicy(50, evaluation_interval=2)
    series = {"finished_early": [0.9], "a": [0.2, 0.3], "b": [0.5, 0.6], "young": [0.0]}
    # ranked at interval 2: finished_early 0.9, a 0.3, b 0.6 -> floor(1.5) = 1 -> a
    assert cancelled(evaluate(policy, series, MAX, running=["a", "b", "young"])) == ["a"]


def test_truncation_repeated_calls_do_not_cancel_more_at_the_same_interval():
    policy = TruncationSelectionPolicy(20)
    series = {f"r{i}": [0.1 * i] for i in range(1, 6)}
    first = cancelled(evaluate(policy, series, MAX))
    running = [r for r in series if r not in first]
    assert evaluate(policy, series, MAX, running=running) == []


# -- No termination, validation, JSON ------------------------------------------------------------

def test_no_termination_policy_cancels_nothing():
    series = {"good": flat(1.0, 50), "bad": flat(0.0, 50)}
    assert evaluate(NoTerminationPolicy(), series, MAX) == []
    assert evaluate(None, series, MAX) == []


@pytest.mark.parametrize("make", [
    lambda: BanditPolicy(),                                         # neither slack
    lambda: BanditPolicy(slack_factor=0.1, slack_amount=0.2),      # both
    lambda: BanditPolicy(slack_factor=-0.1),
    lambda: BanditPolicy(slack_factor=0.1, evaluation_interval=1.5),
    lambda: BanditPolicy(slack_factor=0.1, evaluation_interval=0),
    lambda: BanditPolicy(slack_factor=0.1, delay_evaluation="5"),
    lambda: MedianStoppingPolicy(evaluation_interval="1"),
    lambda: TruncationSelectionPolicy(0),
    lambda: TruncationSelectionPolicy(100),
    lambda: TruncationSelectionPolicy(20.0),
])
def test_invalid_policies_raise_the_sdk_error(make):
    with pytest.raises(HyperDriveConfigException) as info:
        make()
    assert isinstance(info.value, InvalidArgumentError)


def test_bandit_error_message_is_the_sdks():
    with pytest.raises(HyperDriveConfigException, match="exactly one of slack factor or slack amount"):
        BanditPolicy(evaluation_interval=1)


@pytest.mark.parametrize("policy", [
    BanditPolicy(slack_factor=0.1, evaluation_interval=2, delay_evaluation=4),
    BanditPolicy(slack_amount=0.05),
    MedianStoppingPolicy(evaluation_interval=1, delay_evaluation=5),
    TruncationSelectionPolicy(truncation_percentage=20, evaluation_interval=3),
    NoTerminationPolicy(),
])
def test_policy_json_round_trip(policy):
    assert _policy_from_dict(policy.to_json()) == policy


def test_policy_json_is_the_sdks():
    assert BanditPolicy(slack_factor=0.1, evaluation_interval=1, delay_evaluation=5).to_json() == {
        "name": "Bandit", "properties": {"evaluation_interval": 1, "delay_evaluation": 5, "slack_factor": 0.1}}
    assert TruncationSelectionPolicy(20).to_json() == {
        "name": "TruncationSelection", "properties": {"evaluation_interval": 1, "delay_evaluation": 0,
                                                      "truncation_percentage": 20, "exclude_finished_jobs": False}}
    assert NoTerminationPolicy().to_json() == {"name": "Default"}
