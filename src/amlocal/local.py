"""The plugin API for backends that run jobs on this machine.

A local backend subclasses ``LocalBackend`` and supplies three steps; amlocal does the rest
(run history, snapshots, queueing on compute targets' nodes, a detached supervisor per run,
events from the job, outputs, adoption of a run whose supervisor died)::

    class MyBackend(LocalBackend):
        name = "mine"

        def prepare_environment(self, environment, build_log, should_stop):
            ...  # build or reuse what the EnvironmentSpec needs; return a JSON-able dict

        def launch(self, prepared, job, on_created):
            ...  # start the Job; call on_created(execution.handle); return the Execution

        def reattach(self, handle, job):
            ...  # the Execution of a job started by a dead supervisor, or None

and advertises it in the ``amlocal.backends`` entry-point group. ``job_environment()`` gives
the variables every job needs, ``job_shim_dir()`` the directory to put first on its
PYTHONPATH; the wheel cache and build helpers (``plan_packages`` then ``install_steps``) make
environments the way the built-in backends do. ``amlocal.testing`` has the contract suite a backend must pass.
"""

from ._config import cache_dir
from ._local.datastores import DirectoryDatastores
from ._local.job import DataPath, Execution, ExitInfo, Job, PreparationCanceled, job_environment
from ._local.local_backend import DEFAULT_BASE_IMAGE, LocalBackend
from ._local.resources import host_cpus, host_memory_bytes
from ._local.gc import Item as GarbageItem
from ._local.gc import size_of
from ._local.installer import (BYTECODE_SCRIPT, PackagePlan, Place, Step, bytecode_bundle, bytecode_store,
                               failure_advice, find_uv, install_steps, plan_packages)
from ._local.processes import command_lines
from ._local.python_versions import Interpreter, PythonChoice, host_interpreter, this_interpreter
from ._local.python_versions import choose as choose_python
from ._local.wheel_cache import (build_in_progress, build_lock, download_wheels, environment_key, last_used,
                                 mark_used, pip_settings, ready_marker, remote_index_settings, resolved_wheels,
                                 run_logged, split_pip_options)
from ._runtime import read_events


def job_shim_dir():
    """The directory to put first on a job's PYTHONPATH (the in-job ``azureml`` runtime)."""
    from ._runtime import job_shim_dir as assemble

    return assemble(cache_dir())


__all__ = [
    "DEFAULT_BASE_IMAGE", "DataPath", "DirectoryDatastores", "GarbageItem", "Execution", "ExitInfo", "Job", "LocalBackend", "PreparationCanceled",
    "build_in_progress", "build_lock", "cache_dir", "size_of", "last_used", "mark_used", "download_wheels", "environment_key", "host_cpus", "host_memory_bytes",
    "job_environment", "job_shim_dir", "pip_settings", "read_events", "ready_marker", "remote_index_settings",
    "run_logged", "split_pip_options",
    # the processes of this machine (what gc must not take from a running job)
    "command_lines",
    # installing environments (uv or pip, the bytecode store, another Python than the one asked for)
    "BYTECODE_SCRIPT", "Interpreter", "PackagePlan", "Place", "PythonChoice", "Step", "bytecode_bundle", "bytecode_store",
    "choose_python", "failure_advice", "find_uv", "host_interpreter", "install_steps", "plan_packages",
    "resolved_wheels", "this_interpreter",
]
