"""What ``FakeAzureAdapter`` does on its "compute node" for one run: the script really runs
(the node's process, folders and outputs are ``amlocal_azure.fake_jobs.JobProcess``).

The snapshot taken at submit (``amlocal.snapshot``, strict as a submit to Azure is) is copied to
a working directory and the entry script runs there with the interpreter of the run's
environment (``_fake_image``), with amlocal's in-job ``Run`` shim first on PYTHONPATH (so
``Run.get_context()`` logs to ``<control>/events.jsonl``, see ``amlocal._runtime``). Data
references are resolved as Azure ML does: ``$AZUREML_DATAREFERENCE_<name>`` in the arguments
becomes the path of the datastore folder (mount) or of a copy in the working directory
(download). When the script ends, ./outputs and ./logs go to the run's files, as on Azure.
"""

import re
import shutil
from pathlib import Path

from amlocal.local import Job, job_environment, job_shim_dir, read_events
from amlocal.rules.errors import PathOutsideRoot
from amlocal.snapshot import materialize, take_snapshot
from amlocal_azure.fake_jobs import JobProcess, node_environment
from amlocal_azure.paths import inside

EVENTS_FILE = "events.jsonl"
UPLOADS_DIR = "uploads"

DATA_REFERENCE = re.compile(r"\$AZUREML_DATAREFERENCE_(\w+)")


class FakeJob(JobProcess):
    def __init__(self, run_dir, run_id, experiment):
        super().__init__(run_dir)
        self.run_id = run_id
        self.experiment = experiment
        self.control_dir = self.dir / "control"
        self._events_offset = 0

    def take_snapshot(self, source_directory):
        """The source directory as azureml snapshots it (its ignore rules, its limits: amlocal's
        one snapshot implementation, strict as a submit to Azure is)."""
        take_snapshot(source_directory, self.snapshot_dir, self.dir.parent.parent / "snapshot-store", strict=True)

    def open_work_dir(self):
        materialize(self.snapshot_dir, self.work_dir, link=False)
        return self.work_dir

    def start(self, python, script, arguments, environment_variables, data_paths, driver_log):
        """Start the script; ``data_paths`` maps a data reference name to (mode, datastore path,
        path on compute)."""
        self.open_work_dir()
        (self.control_dir / UPLOADS_DIR).mkdir(parents=True, exist_ok=True)
        env = node_environment()
        references = {name: self._materialise(*spec) for name, spec in data_paths.items()}
        env.update({f"AZUREML_DATAREFERENCE_{name}": str(path) for name, path in references.items()})
        job = Job(run_id=self.run_id, experiment=self.experiment, workdir=self.work_dir, control_dir=self.control_dir,
                  script=script, arguments=tuple(arguments), driver_log=self.files_dir / driver_log,
                  environment_variables={str(k): str(v) for k, v in (environment_variables or {}).items()})
        env.update(job_environment(job, self.control_dir, job_shim_dir()))
        resolved = [DATA_REFERENCE.sub(lambda m: str(references.get(m.group(1), m.group(0))), str(a))
                    for a in arguments]
        self.launch([python, script, *resolved], env, driver_log)

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

    def new_events(self):
        """The script's events since the last call; uploads are copied into the run's files."""
        events, self._events_offset = read_events(self.control_dir / EVENTS_FILE, self._events_offset)
        for event in events:
            if event.get("kind") == "upload" and event.get("path") and event.get("name"):
                try:  # names the job wrote: kept inside the control folder and the run's files
                    source = inside(self.control_dir, event.get("path"))
                    target = inside(self.files_dir, event.get("name"))
                except PathOutsideRoot:
                    continue
                if source.is_file() and not source.is_symlink():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, target)
        return events

    def failure_message(self, driver_log):
        """Azure ML's wording for a script that exited non-zero, naming the last error line."""
        last_error = self.last_error_line(driver_log)
        if last_error:
            return f"User program failed with {last_error}"
        return (f"Execution failed. User process 'python' exited with status code {self.exit_code}. Please check "
                f"log file '{driver_log}' for error details.")
