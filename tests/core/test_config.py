"""Workspace.from_config: where config.json is looked for, and what a user sees when it is
missing or wrong."""

import json
from pathlib import Path

import pytest

from amlocal import _config
from amlocal.core import Workspace
from amlocal.exceptions import ConfigError, ConfigNotFoundError

from .conftest import WORKSPACE, write_config


def _no_config_above(directory):
    stray = [p for p in _config.candidate_paths(Path(directory).parent) if p.exists()]
    if stray:
        pytest.skip(f"a config file outside the test directory would be found: {stray[0]}")


@pytest.mark.parametrize("subdir", [".azureml", "aml_config", ""])
def test_each_layout_in_cwd_is_found(project, subdir):
    write_config(project / subdir, workspace_name=f"ws-{subdir.strip('.') or 'plain'}")

    ws = Workspace.from_config(backend="process")

    assert ws.name == f"ws-{subdir.strip('.') or 'plain'}"
    assert ws.subscription_id == WORKSPACE["subscription_id"]
    assert ws.resource_group == WORKSPACE["resource_group"]
    assert Path(ws._config_path) == project / subdir / "config.json"


def test_config_in_a_parent_directory_is_found_from_a_subdirectory(project, monkeypatch):
    write_config(project / ".azureml", workspace_name="ws-parent")
    deep = project / "src" / "training"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)

    assert Workspace.from_config(backend="process").name == "ws-parent"


def test_layout_priority_comes_before_nearness_as_in_azureml(project, monkeypatch):
    write_config(project, workspace_name="ws-parent-plain")
    write_config(project / "sub" / "aml_config", workspace_name="ws-child")
    monkeypatch.chdir(project / "sub")
    assert Workspace.from_config(backend="process").name == "ws-child"

    write_config(project / ".azureml", workspace_name="ws-parent-azureml")
    assert Workspace.from_config(backend="process").name == "ws-parent-azureml"


def test_azureml_dir_is_preferred_in_the_same_directory(project):
    write_config(project, workspace_name="ws-plain")
    write_config(project / "aml_config", workspace_name="ws-aml-config")
    write_config(project / ".azureml", workspace_name="ws-dot-azureml")

    assert Workspace.from_config(backend="process").name == "ws-dot-azureml"


def test_missing_config_lists_the_searched_paths(project):
    _no_config_above(project)

    with pytest.raises(ConfigNotFoundError) as caught:
        Workspace.from_config()

    message = str(caught.value)
    for expected in (project / ".azureml" / "config.json", project / "aml_config" / "config.json",
                     project / "config.json", project / "project.json"):
        assert str(expected) in message
    assert str(project.parent) in message
    assert "write_config" in message and "path=" in message
    searched = caught.value.searched
    # azureml's order: each layout is looked for from here up to the root before the next one
    assert searched[:2] == [project / ".azureml" / "config.json", project.parent / ".azureml" / "config.json"]
    assert searched.index(project / "aml_config" / "config.json") > searched.index(Path("/.azureml/project.json"))
    assert searched[-1] == Path("/project.json")


def test_a_directory_named_config_json_is_not_taken_for_the_file(project):
    _no_config_above(project)
    (project / "config.json").mkdir()

    with pytest.raises(ConfigNotFoundError):
        Workspace.from_config()


def test_invalid_json_names_the_file(project):
    path = project / "config.json"
    path.write_text('{"subscription_id": "s", "resource_group": ')

    with pytest.raises(ConfigError) as caught:
        Workspace.from_config()

    assert not isinstance(caught.value, ConfigNotFoundError)
    assert str(path) in str(caught.value) and "not valid JSON" in str(caught.value)


def test_config_that_is_not_utf8_gives_a_config_error(project):
    path = project / "config.json"
    # What PowerShell's `> config.json` writes: UTF-16 with a byte-order mark.
    path.write_bytes(json.dumps(WORKSPACE).encode("utf-16"))

    with pytest.raises(ConfigError) as caught:
        Workspace.from_config()

    assert str(path) in str(caught.value) and "UTF-8" in str(caught.value)


def test_config_with_a_utf8_byte_order_mark_is_read(project):
    (project / "config.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(WORKSPACE).encode())

    assert Workspace.from_config(backend="process").name == WORKSPACE["workspace_name"]


def test_config_that_is_not_an_object(project):
    (project / "config.json").write_text("[1, 2]")

    with pytest.raises(ConfigError, match="JSON object"):
        Workspace.from_config()


def test_missing_keys_are_named(project):
    path = project / "config.json"
    path.write_text(json.dumps({"subscription_id": "s"}))

    with pytest.raises(ConfigError) as caught:
        Workspace.from_config()

    message = str(caught.value)
    assert str(path) in message
    assert "resource_group" in message and "workspace_name" in message
    assert "lacks" in message


def test_scope_arm_id_form(project):
    scope = ("/subscriptions/sub-1/resourceGroups/rg-1/providers/"
             "Microsoft.MachineLearningServices/workspaces/ws-scope")
    (project / "config.json").write_text(json.dumps({"Scope": scope}))

    ws = Workspace.from_config(backend="process")

    assert (ws.subscription_id, ws.resource_group, ws.name) == ("sub-1", "rg-1", "ws-scope")


def test_scope_that_is_not_a_workspace_id(project):
    (project / "config.json").write_text(json.dumps({"Scope": "/subscriptions/sub-1"}))

    with pytest.raises(ConfigError, match="Scope"):
        Workspace.from_config()


def test_path_to_a_file_with_any_name(project, tmp_path):
    path = write_config(tmp_path / "elsewhere", name="team-workspace.json", workspace_name="ws-file")
    write_config(project, workspace_name="ws-cwd")

    assert Workspace.from_config(path=str(path), backend="process").name == "ws-file"


def test_path_to_a_directory_searches_from_there(project, tmp_path):
    write_config(tmp_path / "elsewhere" / ".azureml", workspace_name="ws-dir")
    (tmp_path / "elsewhere" / "nested").mkdir()
    write_config(project, workspace_name="ws-cwd")

    assert Workspace.from_config(path=str(tmp_path / "elsewhere"), backend="process").name == "ws-dir"
    assert Workspace.from_config(path=str(tmp_path / "elsewhere" / "nested"), backend="process").name == "ws-dir"


def test_file_name_argument(project):
    write_config(project / ".azureml", name="dev.json", workspace_name="ws-dev")
    write_config(project, workspace_name="ws-default")

    assert Workspace.from_config(_file_name="dev.json", backend="process").name == "ws-dev"


def test_write_config_round_trip(project, tmp_path):
    ws = Workspace("sub-9", "rg-9", "ws-written", backend="process")

    written = Path(ws.write_config(path=str(tmp_path / "out")))

    assert written == tmp_path / "out" / ".azureml" / "config.json"
    again = Workspace.from_config(path=str(tmp_path / "out"), backend="process")
    assert (again.subscription_id, again.resource_group, again.name) == ("sub-9", "rg-9", "ws-written")
