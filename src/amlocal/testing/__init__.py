"""Testing with amlocal: the backend contract suite, and a pytest plugin for your own CI.

For backend authors (fsspec's abstract test classes; moto's fake-vs-real): a backend opts in
to the behaviour every backend must have by subclassing the contract and giving a workspace::

    import pytest
    from amlocal.core import Workspace
    from amlocal.testing import BackendContract      # LocalBackendContract for local backends

    class TestMyBackend(BackendContract):
        @pytest.fixture
        def workspace(self, amlocal_project):
            return Workspace.from_config(backend="mine")

For users (fast CI without cloud credentials), the ``amlocal`` pytest plugin (installed with
amlocal, loaded by pytest automatically) gives:

    amlocal_workspace   a Workspace in a temporary home, on the backend chosen by
                        ``--amlocal-backend`` / AMLOCAL_TEST_BACKEND (default: process);
                        built environments (wheels, virtualenvs, images) are shared by the
                        tests and kept between sessions
    amlocal_project     a temporary project directory (the current directory during the test)
                        holding that workspace's config.json
"""

from .contract import (BackendContract, LocalBackendContract, pids_matching, stdlib_config, supervisor_pids,
                       wait_for_status)

__all__ = ["BackendContract", "LocalBackendContract", "pids_matching", "stdlib_config", "supervisor_pids",
           "wait_for_status"]
