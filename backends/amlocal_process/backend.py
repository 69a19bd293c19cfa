"""``LocalProcessBackend``: a cached virtualenv per environment, a subprocess per run."""

import os
import shutil
import signal
import subprocess
import sys
import time

from amlocal._config import cache_dir
from amlocal._local import packages
from amlocal._local.backend import DataPath, Execution, ExitInfo, LocalBackend
from amlocal._runtime import ENV_EXPERIMENT_NAME, ENV_RUN_CONTROL, ENV_RUN_ID, SHIM_DIR
from amlocal.exceptions import EnvironmentBuildError


class LocalProcessBackend(LocalBackend):
    name = "process"

    def prepare_environment(self, environment, build_log):
        deps = environment.get("conda_dependencies") or {}
        if deps.get("conda_packages"):
            raise EnvironmentBuildError(
                f"The process backend cannot install conda packages ({', '.join(deps['conda_packages'])}): it has no "
                "conda. Use pip packages instead, or the docker backend with a base image that has conda.")
        if environment.get("user_managed_dependencies"):
            return {"python": sys.executable}
        python_version = "%d.%d.%d" % sys.version_info[:3]
        settings = packages.pip_settings()
        key = packages.environment_key(environment, f"host-python:{sys.executable}:{python_version}", settings)
        venv = cache_dir() / "venvs" / key[:24]
        if packages.ready_marker(venv).exists():
            return {"python": str(venv / "bin" / "python")}
        with packages.build_lock(f"venv-{key[:24]}"):
            if not packages.ready_marker(venv).exists():
                self._build(venv, deps, python_version, build_log)
        return {"python": str(venv / "bin" / "python")}

    def _build(self, venv, deps, python_version, log):
        started = time.monotonic()
        shutil.rmtree(venv, ignore_errors=True)
        log.write(f"Building virtual environment {venv.name} (Python {python_version})\n")
        code = packages.run_logged([sys.executable, "-m", "venv", "--without-pip", str(venv)], log)
        pip_packages = deps.get("pip_packages") or []
        if code == 0 and pip_packages:
            wheels, ok = packages.download_wheels(pip_packages, deps.get("pip_options"), python_version, log)
            install = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                       "--disable-pip-version-check", "--progress-bar", "off"]
            if ok:
                code = packages.run_logged([*install, "--no-index", "--find-links", str(wheels), *pip_packages], log)
            else:
                log.write("Not every package has a wheel; installing from the package index instead\n")
                code = packages.run_logged([*install, *packages._split_options(deps.get("pip_options")),
                                            *pip_packages], log)
        if code != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise EnvironmentBuildError(f"installing {', '.join(pip_packages) or 'the environment'} failed "
                                        f"(exit code {code}); see azureml-logs/20_image_build_log.txt")
        packages.ready_marker(venv).touch()
        log.write(f"Environment ready in {time.monotonic() - started:.1f} s\n")

    def launch(self, prepared, job):
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
        env.update(job.environment_variables)
        env.update({"PYTHONPATH": str(SHIM_DIR), "PYTHONUNBUFFERED": "1", ENV_RUN_CONTROL: str(job.control_dir),
                    ENV_RUN_ID: job.run_id, ENV_EXPERIMENT_NAME: job.experiment, "AZUREML_RUN_ID": job.run_id})
        if job.cpus:
            threads = str(max(1, int(job.cpus)))
            env.update({"OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads})
        arguments = [str(a.host_path) if isinstance(a, DataPath) else a for a in job.arguments]
        job.driver_log.parent.mkdir(parents=True, exist_ok=True)
        with open(job.driver_log, "ab") as log:
            process = subprocess.Popen([prepared["python"], job.script, *arguments], cwd=str(job.workdir), env=env,
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        return ProcessExecution(process)


class ProcessExecution(Execution):
    def __init__(self, process):
        self.process = process

    def wait(self, timeout):
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        if code < 0:
            signal_name = signal.Signals(-code).name
            return ExitInfo(128 - code, oom_killed=False, detail=f"The process was killed by {signal_name}.")
        return ExitInfo(code)

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
