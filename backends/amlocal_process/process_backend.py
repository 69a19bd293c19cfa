"""``LocalProcessBackend``: a cached virtualenv per environment, a subprocess per run.

No isolation beyond a process: a job runs as the user, with the user's access. Each job runs
under ``job_wrapper`` in its own session, so everything it starts ends with it.

A virtualenv is built as the docker backend builds an image (``amlocal.local.plan_packages``
and ``install_steps``: uv when it is there, else pip; wheels from the host wheel cache; bytecode
from the store), with the interpreter the environment asks for when this machine has it (on
PATH, under pyenv, among uv's managed Pythons), else with amlocal's own, which the run's
warnings then say.
"""

import json
import os
import signal
import subprocess
import sys
import time

from amlocal.exceptions import EnvironmentBuildError
from amlocal.local import DataPath, Execution, ExitInfo, LocalBackend, job_environment, job_shim_dir

from . import virtualenvs
from .virtualenvs import virtualenv

EXIT_FILE = "job-exit.json"
#: run as a file in isolated mode (-I): the job's PYTHONPATH is for the script, not the wrapper
WRAPPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "job_wrapper.py")
STOP_GRACE_SECONDS = 5


class LocalProcessBackend(LocalBackend):
    name = "process"
    can_cut_network = False  # a job is a plain process of the user

    def prepare_environment(self, environment, build_log, should_stop):
        if environment.conda_packages:
            raise EnvironmentBuildError(
                f"The process backend cannot install conda packages ({', '.join(environment.conda_packages)}): it has "
                "no conda. Use pip packages instead, or the docker backend with a base image that has conda.")
        if environment.user_managed:
            return {"python": sys.executable}
        python, warnings = virtualenv(environment, build_log, should_stop)
        prepared = {"python": python}
        if warnings:
            prepared["warnings"] = warnings
        return prepared

    def garbage(self, images=False, older_than=None, now=None):
        """With ``images``: the virtualenvs unused for ``older_than`` seconds that no job runs from."""
        return virtualenvs.garbage(older_than, time.time() if now is None else now) if images else []

    def launch(self, prepared, job, on_created):
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
        env.update(job_environment(job, job.control_dir, job_shim_dir()))
        arguments = [str(a.host_path) if isinstance(a, DataPath) else a for a in job.arguments]
        exit_file = job.control_dir.parent / EXIT_FILE
        job.driver_log.parent.mkdir(parents=True, exist_ok=True)
        with open(job.driver_log, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-I", WRAPPER, str(exit_file), "--", prepared["python"], job.script, *arguments],
                cwd=str(job.workdir), env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        execution = ProcessExecution(process.pid, _start_marker(process.pid), exit_file, process)
        on_created(execution.handle)
        return execution

    def reattach(self, handle, job):
        execution = ProcessExecution(handle["pid"], handle.get("start"), handle["exit_file"])
        if not execution.alive() and not os.path.exists(handle["exit_file"]):
            return None
        return execution


def _start_marker(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


class ProcessExecution(Execution):
    """A job's wrapper process, by pid (checked against its start time, so a reused pid is not
    mistaken for it) and the file where it records how the script ended."""

    def __init__(self, pid, start, exit_file, process=None):
        self.pid = pid
        self.start = start
        self.exit_file = str(exit_file)
        self.process = process
        self.handle = {"pid": pid, "start": start, "exit_file": self.exit_file}
        self._stop_sent = None

    def alive(self):
        if self.process is not None:
            return self.process.poll() is None
        marker = _start_marker(self.pid)
        return marker is not None and (self.start is None or marker == self.start)

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while self.alive():
            if self._stop_sent and time.monotonic() - self._stop_sent > STOP_GRACE_SECONDS:
                self._kill_group()
            if time.monotonic() >= deadline:
                return None
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return self._exit_info()

    def _exit_info(self):
        try:
            with open(self.exit_file) as handle:
                record = json.load(handle)
        except (OSError, ValueError):
            code = self.process.returncode if self.process is not None else None
            return ExitInfo(1 if code is None else (code if code >= 0 else 128 - code),
                            detail="The job's process ended without recording how its script ended (killed?).")
        detail = f"The process was killed by {record['signal']}." if record.get("signal") else ""
        return ExitInfo(record["exit_code"], detail=detail)

    def stop(self):
        """Ask the wrapper to end the script and everything under it; kill the whole group if
        it has not within a few seconds."""
        if self._stop_sent is None:
            self._stop_sent = time.monotonic()
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def _kill_group(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
