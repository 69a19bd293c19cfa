"""Fixtures for the core API tests: each test gets its own AMLOCAL_HOME and works in its own
project directory; built environments go to one shared cache. Nothing here needs Docker."""

import json
import os
from pathlib import Path

import pytest

SHARED_CACHE = Path(os.environ.get("AMLOCAL_TEST_CACHE") or Path.home() / ".cache" / "amlocal-test")
WORKSPACE = {"subscription_id": "sub-0000", "resource_group": "rg-local", "workspace_name": "ws-test"}


def write_config(directory, name="config.json", **fields):
    """Write a workspace config file into ``directory``; return its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(json.dumps({**WORKSPACE, **fields}))
    return path


@pytest.fixture(autouse=True)
def project(tmp_path, monkeypatch):
    """An empty project directory as the working directory, with amlocal's state under tmp_path."""
    for key in list(os.environ):
        if key.startswith("AMLOCAL_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AMLOCAL_HOME", str(tmp_path / "amlocal-home"))
    monkeypatch.setenv("AMLOCAL_CACHE", str(SHARED_CACHE))
    directory = tmp_path / "project"
    directory.mkdir()
    monkeypatch.chdir(directory)
    return directory


@pytest.fixture
def workspace_dir(tmp_path):
    """Where the workspace of ``ws`` keeps its database, runs and models."""
    return tmp_path / "amlocal-home" / WORKSPACE["workspace_name"]


@pytest.fixture
def ws(project):
    from amlocal.core import Workspace

    write_config(project)
    return Workspace.from_config(backend="process")


@pytest.fixture
def exp(ws):
    from amlocal.core import Experiment

    return Experiment(ws, "unit-exp")


@pytest.fixture
def run(exp):
    """An interactive run (Experiment.start_logging), still Running."""
    return exp.start_logging()
