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

import os
import re
import shlex
import shutil
from pathlib import Path

from amlocal.local import read_events
from amlocal_azure.fake_jobs import JobProcess, node_environment

FAKE_MLFLOW_DIR = Path(__file__).resolve().parent / "_fake_mlflow"
NO_MLFLOW_DIR = Path(__file__).resolve().parent / "_fake_no_mlflow"
STD_LOG = "user_logs/std_log.txt"
BINDING = re.compile(r"\$\{\{\s*inputs\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


class FakeJobProcess(JobProcess):
    """The job's code is its snapshot (``code``), its artifacts the run's files (``artifacts``)."""

    def __init__(self, job_dir, name):
        super().__init__(job_dir, snapshot="code", files="artifacts")
        self.name = name
        self.calls_file = self.dir / "mlflow-calls.jsonl"
        self._calls_offset = 0

    def start(self, python, command, inputs, environment_variables, mlflow_variables, has_mlflow):
        """``inputs``: input name -> (mode, local path of the datastore file or folder)."""
        self.open_work_dir()
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
        env = node_environment()
        env.update({str(k): str(v) for k, v in (environment_variables or {}).items()})
        env.update(mlflow_variables)
        env.update({"PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", "PYTHONUNBUFFERED": "1",
                    "AZUREML_RUN_ID": self.name, "AMLOCAL_FAKE_MLFLOW_CALLS": str(self.calls_file),
                    "AMLOCAL_FAKE_MLFLOW_ARTIFACTS": str(self.files_dir)})
        env["PYTHONPATH"] = str(FAKE_MLFLOW_DIR if has_mlflow else NO_MLFLOW_DIR)
        self.launch(["bash", "-c", resolved], env, STD_LOG)

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

    def new_calls(self):
        """The stand-in mlflow's calls since the last time (whole lines only)."""
        calls, self._calls_offset = read_events(self.calls_file, self._calls_offset)
        return calls

    def failure_message(self):
        """Azure ML's wording for a command that exited non-zero, with the last error line."""
        last_error = self.last_error_line(STD_LOG)
        message = (f"Execution failed. User process '/bin/bash' exited with status code {self.exit_code}. Please "
                   f"check log file '{STD_LOG}' for error details.")
        return message + (f" Error: {last_error}" if last_error else "")
