"""The ``amlocal`` pytest plugin (entry point ``pytest11``): workspaces for tests.

    def test_my_training_script(amlocal_workspace):
        run = Experiment(amlocal_workspace, "ci").submit(ScriptRunConfig(...))
        run.wait_for_completion()
        assert run.get_metrics()["Accuracy"] > 0.9

Options: ``--amlocal-backend NAME`` (or AMLOCAL_TEST_BACKEND; default ``process``, which needs
no Docker). Each test gets its own home (AMLOCAL_HOME under pytest's tmp_path); the cache of
built environments is shared by every test and kept between sessions (AMLOCAL_CACHE when set,
else ``~/.cache/amlocal-pytest``), so only the first test of an environment builds it.
"""

import json
import os
from pathlib import Path

import pytest

DEFAULT_BACKEND = "process"


def pytest_addoption(parser):
    group = parser.getgroup("amlocal")
    group.addoption("--amlocal-backend", default=None, metavar="NAME",
                    help="the backend amlocal_workspace uses (docker, process, ...; default: AMLOCAL_TEST_BACKEND, "
                         f"else {DEFAULT_BACKEND})")


@pytest.fixture(scope="session")
def amlocal_backend_name(request):
    return request.config.getoption("--amlocal-backend") or os.environ.get("AMLOCAL_TEST_BACKEND") or DEFAULT_BACKEND


@pytest.fixture
def amlocal_project(tmp_path, monkeypatch):
    """A project directory with a local workspace's config.json, made the current directory;
    the workspace lives in its own AMLOCAL_HOME."""
    monkeypatch.setenv("AMLOCAL_HOME", str(tmp_path / "amlocal-home"))
    if not os.environ.get("AMLOCAL_CACHE"):
        monkeypatch.setenv("AMLOCAL_CACHE", str(Path.home() / ".cache" / "amlocal-pytest"))
    monkeypatch.delenv("AMLOCAL_BACKEND", raising=False)
    project = tmp_path / "amlocal-project"
    project.mkdir()
    (project / "config.json").write_text(json.dumps(
        {"subscription_id": "local", "resource_group": "local", "workspace_name": "amlocal-test"}))
    monkeypatch.chdir(project)
    return project


@pytest.fixture
def amlocal_workspace(amlocal_project, amlocal_backend_name):
    """A Workspace in a temporary home, on the chosen backend."""
    from amlocal.core import Workspace

    return Workspace.from_config(backend=amlocal_backend_name)
