"""A third-party backend opts into the shipped contract suite in a few lines: advertise it in the
``amlocal.backends`` entry-point group (patched here, as its installed package would), subclass
the contract, give the workspace."""

import sys
from pathlib import Path

import pytest

from amlocal import _plugins
from amlocal.core import Workspace
from amlocal.testing import LocalBackendContract

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


@pytest.fixture
def example_plugin(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.setattr(_plugins, "_targets", {**_plugins.known_backends(),
                                               "example": "amlocal_example_plugin:ExampleBackend"})


class TestExamplePluginContract(LocalBackendContract):
    @pytest.fixture
    def workspace(self, amlocal_project, example_plugin):
        return Workspace.from_config(backend="example")

    def test_the_plugin_s_own_behaviour_reaches_the_job(self, workspace, amlocal_project):
        run = self._submit(workspace, amlocal_project, "env.py", """
            import os
            from azureml.core.run import Run
            Run.get_context().log("marked", os.environ.get("EXAMPLE_PLUGIN"))
            """)
        run.wait_for_completion()
        assert run.get_metrics()["marked"] == "1"
        assert run.get_details()["properties"]["backend"] == "example"
