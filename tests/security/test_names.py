"""Hostile and careless names: every kind refuses what would become a path, and accepts Azure ML's examples."""

import pytest

from amlocal.exceptions import InvalidArgumentError, InvalidModelNameError
from amlocal.rules import names
from amlocal.rules.errors import InvalidName, RuleViolation

KINDS = sorted(names.RULES)

HOSTILE = ["../../x", "a/../../cx", "../x", "x/y", "x\\y", "x\0y", "x" * 1000, ".", "..", "", " ",
           "abc\n", "\nabc", "-leading-dash", "_x", "a b", "C:x", "/abs", "~root", "x;rm -rf", "é" * 4]
NOT_STR = [None, 1, 1.5, b"abc", ["abc"], object()]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", HOSTILE + NOT_STR, ids=lambda value: type(value).__name__ if type(value) is object else repr(value))
def test_hostile_names_are_refused_as_invalid_argument(kind, value):
    with pytest.raises(InvalidArgumentError) as caught:
        names.validate_name(kind, value)
    assert isinstance(caught.value, RuleViolation) and isinstance(caught.value, ValueError)
    assert not names.is_valid_name(kind, value)


@pytest.mark.parametrize("kind,good", [
    ("workspace", "iris-workspace"), ("workspace", "ws_1"), ("workspace", "a" * 33),
    ("experiment", "sklearn-iris"), ("experiment", "x"), ("experiment", "a" * 255), ("experiment", "Exp_1-b"),
    ("compute_target", "cpu-cluster"), ("compute_target", "gpu-cluster"), ("compute_target", "local"),
    ("compute_target", "ab"), ("compute_target", "a" * 24),
    ("datastore", "workspaceblobstore"), ("datastore", "my_datastore"),
    ("model", "sklearn-iris"), ("model", "model.v1_2-3"), ("model", "a" * 255),
    ("environment", "AzureML-sklearn-0.24-ubuntu18.04-py37-cpu"), ("environment", "sklearn-env"),
    ("run_id", "sklearn-iris_1700000000_0a1b2c3d"), ("run_id", "HD_0b6f1c3e-6a7d-4c1e-9b0a-1f2e3d4c5b6a_0"),
])
def test_azure_ml_example_names_are_accepted(kind, good):
    assert names.validate_name(kind, good) == good
    assert type(names.validate_name(kind, good)) is str


@pytest.mark.parametrize("kind,bad", [
    ("workspace", "a" * 34),                                 # at most 33 characters
    ("experiment", "a" * 256),
    ("compute_target", "a"), ("compute_target", "a" * 25), ("compute_target", "1cpu"),
    ("compute_target", "cpu-"), ("compute_target", "cpu_cluster"),
    ("model", "a" * 256), ("environment", "a" * 256), ("run_id", "a" * 256),
    ("datastore", "my.store"),
])
def test_each_kind_enforces_its_own_length_and_characters(kind, bad):
    with pytest.raises(InvalidName):
        names.validate_name(kind, bad)


def test_message_names_the_field_the_value_the_rule_and_a_valid_example():
    with pytest.raises(InvalidArgumentError) as caught:
        names.validate_workspace_name("../../x", field="workspace_name")
    text = str(caught.value)
    assert "workspace_name" in text and "'../../x'" in text
    assert "at most 33 characters" in text and "'iris-workspace'" in text


def test_a_huge_value_is_shown_cut_with_its_length():
    with pytest.raises(InvalidArgumentError) as caught:
        names.validate_experiment_name("y" * 100_000)
    assert len(str(caught.value)) < 500
    assert "100,000 characters" in str(caught.value)


def test_a_bad_model_name_is_still_an_invalid_model_name_error():
    with pytest.raises(InvalidModelNameError) as caught:
        names.validate_model_name("../../etc/passwd")
    assert isinstance(caught.value, InvalidArgumentError)


def test_unknown_kind_lists_the_known_ones():
    with pytest.raises(KeyError, match="experiment"):
        names.validate_name("webservice", "x")


def test_run_ids_stay_valid_even_for_the_longest_experiment_name():
    run_id = names.new_run_id("e" * 255, now=1_700_000_000, token="0a1b2c3d")
    assert len(run_id) == 255 and run_id.endswith("_1700000000_0a1b2c3d")
    assert names.new_run_id("sklearn-iris", now=1, token="ffffffff") == "sklearn-iris_1_ffffffff"
    with pytest.raises(InvalidName):
        names.new_run_id("../x")
