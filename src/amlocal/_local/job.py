"""What a local backend runs and gets back: the contract between the supervisor and the
``prepare_environment`` / ``launch`` / ``reattach`` steps of a ``LocalBackend``.

    Job          what to run: script, arguments, directories, limits, labels
    DataPath     a datastore path handed to the job as an argument
    Execution    a started job: wait for it, stop it, release it
    ExitInfo     how it ended
    job_environment()   the variables every job gets (the in-job runtime's contract)
"""

import abc
from dataclasses import dataclass, field
from pathlib import Path

from .._runtime import ENV_EXPERIMENT_NAME, ENV_RUN_CONTROL, ENV_RUN_ID


class PreparationCanceled(Exception):
    """Raised by ``prepare_environment`` when the run was canceled while it prepared."""


@dataclass(frozen=True)
class ExitInfo:
    """How a job's process ended: its exit code, whether the kernel killed it for memory, and
    a sentence saying how it ended when the code alone would mislead (a signal, a kill)."""
    exit_code: int
    oom_killed: bool = False
    detail: str = ""


class Execution(abc.ABC):
    """A started job. Its output goes to the driver log given in the Job."""

    #: plain data that lets ``LocalBackend.reattach`` find this job again from another process
    handle = None

    @abc.abstractmethod
    def wait(self, timeout):
        """Wait up to ``timeout`` seconds; ExitInfo once the job ended (and every line it
        printed is in the driver log), else None. Raises BackendUnavailableError when the
        engine running it went away."""

    @abc.abstractmethod
    def stop(self):
        """Kill the job (cancel, or time limit). Idempotent; returns at once."""

    def cleanup(self):
        """Release what the job held (container, process group) after it ended."""


@dataclass(frozen=True)
class DataPath:
    """A datastore path given as an argument: ``host_path`` exists on this machine; ``mode`` is
    mount (read-only, in place) or download (a copy inside the job's working directory)."""
    host_path: Path
    mode: str


@dataclass(frozen=True)
class Job:
    """What ``launch`` runs: ``arguments`` items are str or DataPath; ``cpus`` None means no
    CPU limit; ``memory_bytes`` is always set (a documented default without a compute target);
    ``network`` False cuts the job off from every network."""
    run_id: str
    experiment: str
    workdir: Path
    control_dir: Path
    script: str
    arguments: tuple
    environment_variables: dict
    driver_log: Path
    cpus: float = None
    memory_bytes: int = None
    pids_limit: int = None
    network: bool = True
    labels: dict = field(default_factory=dict)


def job_environment(job, control_dir, shim_dir):
    """The environment variables of a job, with ``control_dir`` and ``shim_dir`` as the job
    sees them (paths inside a container, or on this machine): the user's variables, then the
    in-job runtime's (``amlocal._runtime``), then thread caps that match the CPU limit."""
    env = dict(job.environment_variables)
    user_path = env.get("PYTHONPATH")
    env.update({
        "PYTHONPATH": str(shim_dir) + (f":{user_path}" if user_path else ""),
        "PYTHONUNBUFFERED": "1",
        ENV_RUN_CONTROL: str(control_dir),
        ENV_RUN_ID: job.run_id,
        ENV_EXPERIMENT_NAME: job.experiment,
        "AZUREML_RUN_ID": job.run_id,
    })
    if job.cpus:
        threads = str(max(1, int(job.cpus)))
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(name, threads)
    return env
