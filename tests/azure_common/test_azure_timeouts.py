"""The one rule for the limits of every call into Azure, shared by both Azure backends: the
environment variables over config.json's "azure_timeouts" over the defaults, and hostile values
refused with a ConfigError that names the key, the value and what to do."""

import pytest

from amlocal.exceptions import ConfigError
from amlocal_azure.timeouts import Timeouts


def config(**values):
    return {"workspace_name": "ws", "azure_timeouts": values}


def test_without_either_source_the_defaults_hold():
    assert Timeouts.in_force({}, {}) == Timeouts.in_force(None, {}) == Timeouts.in_force({"azure_timeouts": None}, {})
    assert Timeouts.in_force({}, {}).as_tuple() == (10.0, 60.0, 2)


def test_config_json_over_the_defaults_and_the_variables_over_config_json():
    from_config = config(connect=3, read=20.5, retries=0, cli_process=5, interactive=60)
    assert Timeouts.in_force(from_config, {}) == Timeouts(connect=3, read=20.5, retries=0, cli_process=5,
                                                          interactive=60)
    environ = {"AMLOCAL_AZURE_READ_TIMEOUT": "7", "AMLOCAL_AZURE_RETRIES": "4"}
    limits = Timeouts.in_force(from_config, environ)
    assert (limits.connect, limits.read, limits.retries) == (3, 7.0, 4)  # connect: no variable, config.json's
    assert Timeouts.in_force(config(read=20), {"AMLOCAL_AZURE_CONNECT_TIMEOUT": "2"}).as_tuple() == (2.0, 20, 2)
    empty = {"AMLOCAL_AZURE_READ_TIMEOUT": "", "AMLOCAL_AZURE_CONNECT_TIMEOUT": ""}
    assert Timeouts.in_force(config(read=20), empty).read == 20  # an empty variable is unset


def test_the_variables_are_read_from_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("AMLOCAL_AZURE_CONNECT_TIMEOUT", "4")
    monkeypatch.delenv("AMLOCAL_AZURE_READ_TIMEOUT", raising=False)
    monkeypatch.delenv("AMLOCAL_AZURE_RETRIES", raising=False)
    assert Timeouts.in_force(config(connect=9, read=9)).as_tuple() == (4.0, 9, 2)


@pytest.mark.parametrize("key, value", [
    ("connect", 0), ("read", -1), ("read", "60"), ("connect", True), ("read", None), ("read", float("nan")),
    ("read", float("inf")), ("connect", 10 ** 9), ("read", [60]), ("retries", -1), ("retries", 1.5),
    ("retries", "2"), ("retries", False), ("retries", 10 ** 6), ("cli_process", 0), ("interactive", "soon"),
])
def test_a_hostile_value_in_config_json_is_refused_naming_key_value_and_fix(key, value):
    with pytest.raises(ConfigError) as raised:
        Timeouts.in_force(config(**{key: value}), {})
    message = str(raised.value)
    assert f'"azure_timeouts": {{"{key}": {value!r}}}' in message
    assert "is not a" in message and "remove the key to use the default" in message


def test_an_unknown_key_or_a_section_that_is_not_an_object_is_refused():
    with pytest.raises(ConfigError) as raised:
        Timeouts.from_config(config(read=60, read_timeout=30))
    assert "unknown key 'read_timeout' (value 30)" in str(raised.value)
    assert "'connect', 'read', 'retries', 'cli_process', 'interactive'" in str(raised.value)
    for section in ("60", [60], 60, True):
        with pytest.raises(ConfigError, match='"azure_timeouts" is .*it must be an object'):
            Timeouts.from_config({"azure_timeouts": section})


@pytest.mark.parametrize("name, text", [
    ("AMLOCAL_AZURE_CONNECT_TIMEOUT", "0"), ("AMLOCAL_AZURE_READ_TIMEOUT", "soon"),
    ("AMLOCAL_AZURE_READ_TIMEOUT", "nan"), ("AMLOCAL_AZURE_READ_TIMEOUT", "-5"), ("AMLOCAL_AZURE_RETRIES", "-1"),
    ("AMLOCAL_AZURE_RETRIES", "1.5"), ("AMLOCAL_AZURE_RETRIES", "lots"),
])
def test_a_bad_variable_is_refused_saying_what_unsetting_it_gives(name, text):
    with pytest.raises(ConfigError) as raised:
        Timeouts.in_force(config(read=30, retries=1), {name: text})
    message = str(raised.value)
    fallback = {"AMLOCAL_AZURE_CONNECT_TIMEOUT": "10 s", "AMLOCAL_AZURE_READ_TIMEOUT": "30 s",
                "AMLOCAL_AZURE_RETRIES": "1 retry"}[name]
    assert message.startswith(f"{name}={text!r} is not a") and f"Unset it to use {fallback}." in message


def test_azure_core_reads_the_limits_under_its_own_names():
    assert Timeouts(connect=3, read=7, retries=1).transport_kwargs() == {
        "connection_timeout": 3, "read_timeout": 7, "retry_total": 1}
