"""A tiny third-party backend: the process backend under another name, with the job's
variables marked. It exists to show that a plugin opts into the contract suite in a few
lines (tests/contract/test_example_plugin.py)."""

from amlocal.local import job_environment
from amlocal_process import LocalProcessBackend


class ExampleBackend(LocalProcessBackend):
    name = "example"

    def launch(self, prepared, job, on_created):
        from dataclasses import replace

        marked = replace(job, environment_variables={**job.environment_variables, "EXAMPLE_PLUGIN": "1"})
        assert job_environment(marked, job.control_dir, "/shim")["EXAMPLE_PLUGIN"] == "1"
        return super().launch(prepared, marked, on_created)
