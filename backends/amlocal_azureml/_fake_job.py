"""What ``FakeAzureAdapter`` does on its "compute node" for one run: the script really runs.

The snapshot taken at submit is copied to a working directory and the entry script runs there
with the interpreter of the run's environment (``_fake_image``), with amlocal's in-job ``Run``
shim first on PYTHONPATH (so
``Run.get_context()`` logs to ``<control>/events.jsonl``, see ``amlocal._runtime``). Data
references are resolved as Azure ML does: ``$AZUREML_DATAREFERENCE_<name>`` in the arguments
becomes the path of the datastore folder (mount) or of a copy in the working directory
(download). When the script ends, ./outputs and ./logs go to the run's files, as on Azure.
"""

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from amlocal.local import Job, job_environment, job_shim_dir, read_events
from amlocal.snapshot import materialize, take_snapshot

EVENTS_FILE = "events.jsonl"
UPLOADS_DIR = "uploads"

DATA_REFERENCE = re.compile(r"\$AZUREML_DATAREFERENCE_(\w+)")


class FakeJob:
    def __init__(self, run_dir, run_id, experiment):
        self.dir = Path(run_dir)
        self.run_id = run_id
        self.experiment = experiment
        self.snapshot_dir = self.dir / "snapshot"
        self.work_dir = self.dir / "work"
        self.control_dir = self.dir / "control"
        self.files_dir = self.dir / "files"
        self.process = None
        self.exit_code = None
        self._events_offset = 0
        self.files_dir.mkdir(parents=True, exist_ok=True)

    def take_snapshot(self, source_directory):
        """The source directory as azureml snapshots it (its ignore rules, its limits: amlocal's
        one snapshot implementation, strict as a submit to Azure is)."""
        take_snapshot(source_directory, self.snapshot_dir, self.dir.parent.parent / "snapshot-store", strict=True)

    def start(self, python, script, arguments, environment_variables, data_paths, driver_log):
        """Start the script; ``data_paths`` maps a data reference name to (mode, datastore path,
        path on compute)."""
        materialize(self.snapshot_dir, self.work_dir, link=False)
        (self.control_dir / UPLOADS_DIR).mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("AMLOCAL_") and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        references = {name: self._materialise(*spec) for name, spec in data_paths.items()}
        env.update({f"AZUREML_DATAREFERENCE_{name}": str(path) for name, path in references.items()})
        job = Job(run_id=self.run_id, experiment=self.experiment, workdir=self.work_dir, control_dir=self.control_dir,
                  script=script, arguments=tuple(arguments), driver_log=self.files_dir / driver_log,
                  environment_variables={str(k): str(v) for k, v in (environment_variables or {}).items()})
        env.update(job_environment(job, self.control_dir, job_shim_dir()))
        resolved = [DATA_REFERENCE.sub(lambda m: str(references.get(m.group(1), m.group(0))), str(a))
                    for a in arguments]
        log_path = self.files_dir / driver_log
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen([python, script, *resolved], cwd=str(self.work_dir), env=env,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def _materialise(self, mode, source, path_on_compute):
        source = Path(source)
        if mode != "download":
            return source
        target = self.work_dir / (path_on_compute or source.name).strip("/")
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        return target

    def poll(self):
        """The exit code once the script ended, else None."""
        if self.process is not None and self.exit_code is None:
            self.exit_code = self.process.poll()
        return self.exit_code

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
        self.poll()

    def new_events(self):
        """The script's events since the last call; uploads are copied into the run's files."""
        events, self._events_offset = read_events(self.control_dir / EVENTS_FILE, self._events_offset)
        for event in events:
            if event.get("kind") == "upload":
                source = self.control_dir / event["path"]
                if source.is_file():
                    target = self.files_dir / event["name"]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, target)
        return events

    def collect_outputs(self):
        """./outputs and ./logs of the working directory into the run's files."""
        for folder in ("outputs", "logs"):
            source = self.work_dir / folder
            if source.is_dir():
                shutil.copytree(source, self.files_dir / folder, dirs_exist_ok=True)
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def failure_message(self, driver_log):
        """Azure ML's wording for a script that exited non-zero, naming the last error line."""
        try:
            lines = (self.files_dir / driver_log).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        last_error = next((line for line in reversed(lines) if re.match(r"^[A-Za-z_][\w.]*(Error|Exception)\b", line)),
                          None)
        if last_error:
            return f"User program failed with {last_error}"
        return (f"Execution failed. User process 'python' exited with status code {self.exit_code}. Please check "
                f"log file '{driver_log}' for error details.")
