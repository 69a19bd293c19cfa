"""What ``FakeV2Adapter`` does on its "compute node" for one job: the job's command really runs.

The code snapshot taken at submit (the staged source + shim) is copied to a working directory and
the job's command line runs there under ``bash -c``, as Azure ML runs it, after the service's
substitution of ``${{inputs.<name>}}``: a ``ro_mount`` input is the datastore folder (or file)
itself, a ``download`` input a copy inside the job's working area. The environment has the job's
``environment_variables`` and the MLflow variables Azure ML sets (MLFLOW_TRACKING_URI,
MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_NAME), ``python`` is the fake's interpreter, and when the job's
environment would have mlflow, the stand-in ``mlflow`` package (``_fake_mlflow``) comes first
on PYTHONPATH: it records the shim's calls for the fake to read back; when it would not, a package
that fails to import (``_fake_no_mlflow``) hides the host's mlflow. Output goes to
``user_logs/std_log.txt`` (the common runtime's log) as the job writes it; when the command
ends, ./outputs and ./logs join the job's artifacts.
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

FAKE_MLFLOW_DIR = Path(__file__).resolve().parent / "_fake_mlflow"
NO_MLFLOW_DIR = Path(__file__).resolve().parent / "_fake_no_mlflow"
STD_LOG = "user_logs/std_log.txt"
BINDING = re.compile(r"\$\{\{\s*inputs\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


class FakeJobProcess:
    def __init__(self, job_dir, name):
        self.dir = Path(job_dir)
        self.name = name
        self.code_dir = self.dir / "code"
        self.work_dir = self.dir / "work"
        self.artifacts_dir = self.dir / "artifacts"
        self.calls_file = self.dir / "mlflow-calls.jsonl"
        self.process = None
        self.exit_code = None
        self._calls_offset = 0
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)

    def take_snapshot(self, code):
        shutil.copytree(code, self.code_dir)

    def start(self, python, command, inputs, environment_variables, mlflow_variables, has_mlflow):
        """``inputs``: input name -> (mode, local path of the datastore file or folder)."""
        shutil.copytree(self.code_dir, self.work_dir, dirs_exist_ok=True)
        paths = {name: self._materialise(name, mode, source) for name, (mode, source) in inputs.items()}
        unknown = sorted(set(BINDING.findall(command)) - set(paths))
        if unknown:
            raise ValueError(f"the command binds inputs the job does not have: {unknown}")
        resolved = BINDING.sub(lambda m: shlex.quote(str(paths[m.group(1)])), command)
        bin_dir = self.dir / "bin"
        bin_dir.mkdir(exist_ok=True)
        launcher = bin_dir / "python"
        launcher.write_text(f"#!/bin/sh\nexec {shlex.quote(str(python))} \"$@\"\n")
        launcher.chmod(0o755)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AMLOCAL_", "MLFLOW_")) and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env.update({str(k): str(v) for k, v in (environment_variables or {}).items()})
        env.update(mlflow_variables)
        env.update({"PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", "PYTHONUNBUFFERED": "1",
                    "AZUREML_RUN_ID": self.name, "AMLOCAL_FAKE_MLFLOW_CALLS": str(self.calls_file),
                    "AMLOCAL_FAKE_MLFLOW_ARTIFACTS": str(self.artifacts_dir)})
        env["PYTHONPATH"] = str(FAKE_MLFLOW_DIR if has_mlflow else NO_MLFLOW_DIR)
        log_path = self.artifacts_dir / STD_LOG
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(["bash", "-c", resolved], cwd=str(self.work_dir), env=env,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def _materialise(self, name, mode, source):
        if mode == "download":
            target = self.dir / "inputs" / name / Path(source).name
            target.parent.mkdir(parents=True, exist_ok=True)
            if Path(source).is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copyfile(source, target)
            return target
        return Path(source)

    def poll(self):
        if self.process is not None and self.exit_code is None:
            self.exit_code = self.process.poll()
        return self.exit_code

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.process.pid, sig)
                except (ProcessLookupError, PermissionError):
                    break
                try:
                    self.process.wait(timeout=5)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.poll()

    def new_calls(self):
        """The stand-in mlflow's calls since the last time (whole lines only)."""
        try:
            with open(self.calls_file, "rb") as handle:
                handle.seek(self._calls_offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self._calls_offset += end
        calls = []
        for line in data[:end].splitlines():
            try:
                calls.append(json.loads(line))
            except ValueError:
                continue
        return calls

    def collect_outputs(self):
        """./outputs and ./logs of the working directory into the job's artifacts, as Azure ML does."""
        for folder in ("outputs", "logs"):
            source = self.work_dir / folder
            if not source.is_dir() or source.is_symlink():
                continue
            for here, dirs, files in os.walk(source):  # links are never followed nor kept
                dirs[:] = [d for d in dirs if not (Path(here) / d).is_symlink()]
                for filename in files:
                    path = Path(here) / filename
                    if path.is_symlink() or not path.is_file():
                        continue
                    target = self.artifacts_dir / folder / path.relative_to(source)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def failure_message(self):
        """Azure ML's wording for a command that exited non-zero, with the last error line."""
        try:
            lines = (self.artifacts_dir / STD_LOG).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        last_error = next((line for line in reversed(lines) if re.match(r"^[A-Za-z_][\w.]*(Error|Exception)\b", line)),
                          None)
        message = (f"Execution failed. User process '/bin/bash' exited with status code {self.exit_code}. Please "
                   f"check log file '{STD_LOG}' for error details.")
        return message + (f" Error: {last_error}" if last_error else "")
