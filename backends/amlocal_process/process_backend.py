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
import shutil
import signal
import subprocess
import sys
import time

from amlocal.exceptions import EnvironmentBuildError
from amlocal.local import (BYTECODE_SCRIPT, DataPath, Execution, ExitInfo, LocalBackend, Place, PreparationCanceled,
                           build_lock, bytecode_store, cache_dir, choose_python, environment_key, failure_advice,
                           find_uv, host_interpreter, install_steps, job_environment, job_shim_dir, pip_settings,
                           plan_packages, ready_marker, run_logged, this_interpreter)

EXIT_FILE = "job-exit.json"
#: run as a file in isolated mode (-I): the job's PYTHONPATH is for the script, not the wrapper
WRAPPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "job_wrapper.py")
STOP_GRACE_SECONDS = 5


class LocalProcessBackend(LocalBackend):
    name = "process"

    def prepare_environment(self, environment, build_log, should_stop):
        if environment.conda_packages:
            raise EnvironmentBuildError(
                f"The process backend cannot install conda packages ({', '.join(environment.conda_packages)}): it has "
                "no conda. Use pip packages instead, or the docker backend with a base image that has conda.")
        if environment.user_managed:
            return {"python": sys.executable}
        uv = find_uv()
        choice = _choose_python(environment.python_version, uv)
        python = choice.interpreter
        settings = pip_settings()
        key = environment_key(environment, f"host-python:{python.path}:{python.version}", settings)
        venv = cache_dir() / "venvs" / key[:24]
        if not ready_marker(venv).exists():
            with build_lock(f"venv-{key[:24]}"):
                if not ready_marker(venv).exists():
                    self._build(venv, environment, choice, uv, settings, build_log, should_stop)
        prepared = {"python": str(venv / "bin" / "python")}
        warnings = _warnings_of(venv)
        if warnings:
            prepared["warnings"] = warnings
        return prepared

    def _build(self, venv, environment, choice, uv, settings, log, should_stop):
        started = time.monotonic()
        python = choice.interpreter
        shutil.rmtree(venv, ignore_errors=True)
        log.write(f"Building virtual environment {venv.name} (Python {python.version})\n")
        if choice.note:
            log.write(f"Note: {choice.note}\n")
        cache_tag = sys.implementation.cache_tag if python.path == sys.executable else \
            "cpython-" + "".join(python.version.split(".")[:2])
        plan = plan_packages(list(environment.pip_packages), list(environment.pip_options), python.version, cache_tag,
                             adapt=not choice.matches, index=settings, log=log, uv=uv, should_stop=should_stop)
        # uv reads no pip configuration: it gets the user's indexes, file:// ones included (this is the host)
        place = Place(venv_python=python.path, prefix=str(venv), wheels=str(plan.wheels),
                      bytecode_script=str(BYTECODE_SCRIPT), uv=uv,
                      bytecode_store=str(bytecode_store()) if plan.bytecode_stored else None,
                      cert=settings.get("cert"), index=settings if plan.installer == "uv" else None,
                      pip=(sys.executable, "-m", "pip"), uv_cache=str(cache_dir() / "uv"))
        steps, variables = install_steps(plan, place)
        code = 0
        for step in steps:
            if should_stop():
                break
            log.write(step.announce + "\n")
            code = run_logged(list(step.argv), log, env={**os.environ, **variables}, should_stop=should_stop)
            if code != 0:
                break
        if code != 0 or should_stop():
            shutil.rmtree(venv, ignore_errors=True)
            if should_stop():
                raise PreparationCanceled()
            raise EnvironmentBuildError(
                f"installing {', '.join(plan.packages) or 'the environment'} failed (exit code {code}); see "
                f"azureml-logs/20_image_build_log.txt.{failure_advice(plan, choice)}")
        warnings = [w for w in (choice.note, *plan.moves) if w]
        for warning in warnings:
            log.write(f"Warning: {warning}\n")
        ready_marker(venv).write_text(json.dumps({"warnings": warnings}))
        log.write(f"Environment ready in {time.monotonic() - started:.1f} s\n")

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


def _choose_python(requested, uv):
    """The interpreter for an environment asking for Python ``requested`` (see amlocal.local.choose_python)."""
    default = this_interpreter()
    choice = choose_python(requested, default, {}, "this machine")
    found = None if choice.matches else host_interpreter(requested, uv)
    if found is None:
        return choice
    return choose_python(requested, default, {".".join(requested.split(".")[:2]): found}, "this machine")


def _warnings_of(venv):
    try:
        warnings = json.loads(ready_marker(venv).read_text() or "{}").get("warnings")
    except (OSError, ValueError, AttributeError):
        return []
    return [w for w in warnings if isinstance(w, str)] if isinstance(warnings, list) else []


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
