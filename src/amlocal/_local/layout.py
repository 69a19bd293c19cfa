"""Where a local workspace keeps things, under ``$AMLOCAL_HOME/<workspace name>/``.

    amlocal.db                   runs, metrics, tags, models, compute targets (SQLite)
    runs/<run id>/spec.json      what the run is (RunSpec and what submit resolved)
                  snapshot/      the source directory as submitted
                  work/          the job's working directory while it runs
                  control/       where the job writes events and uploads (untrusted)
                  files/         run history files: outputs/, logs/, azureml-logs/, uploads
                  supervisor.lock  held by the run's supervisor while it lives
                  job.json       how to find the running job again (container id, pid)
    staging/                     runs being submitted (moved into runs/ when complete)
    compute/<target>/node-N.lock a node of a compute target, held by the run using it
    models/<name>/<version>/     registered models
    datastores/<name>/           datastore files
    environments/<name>/<N>.json registered environments
    dispatcher.lock              held by the process that starts queued runs

Everything is private to the user: directories 0700, files 0600 (``make_private_dir``).
"""

import os
from pathlib import Path


def make_private_dir(path):
    """Create ``path`` (and missing parents) readable by its owner only; an existing directory
    keeps its mode."""
    path = Path(path)
    missing, parent = [], path
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:  # made by another process meanwhile
            pass
    return path


def make_private_tree(root):
    """Make what is below ``root`` (and ``root``) the owner's only: directories 0700, files
    0600 (0700 when executable). Links are not followed."""
    for directory, subdirs, names in os.walk(root):
        os.chmod(directory, 0o700)
        for name in names:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            if not os.path.islink(path):
                os.chmod(path, 0o700 if info.st_mode & 0o100 else 0o600)


class WorkspaceLayout:
    def __init__(self, root):
        self.root = Path(root)

    def ensure_root(self):
        make_private_dir(self.root)
        os.chmod(self.root, 0o700)
        return self.root

    @property
    def database(self):
        return self.root / "amlocal.db"

    @property
    def runs(self):
        return self.root / "runs"

    @property
    def staging(self):
        return self.root / "staging"

    def run_dir(self, run_id):
        return self.runs / run_id

    def run_files(self, run_id):
        """The run's history files: outputs/, logs/, azureml-logs/, uploads."""
        return self.run_dir(run_id) / "files"

    def run_snapshot(self, run_id):
        return self.run_dir(run_id) / "snapshot"

    def run_workdir(self, run_id):
        """The job's working directory (a copy of the snapshot the job may write into)."""
        return self.run_dir(run_id) / "work"

    def run_control(self, run_id):
        """Where the job writes events (metrics, tags, uploads) for the host to ingest."""
        return self.run_dir(run_id) / "control"

    def run_spec(self, run_id):
        return self.run_dir(run_id) / "spec.json"

    def supervisor_lock(self, run_id):
        return self.run_dir(run_id) / "supervisor.lock"

    def supervisor_log(self, run_id):
        return self.run_dir(run_id) / "supervisor.log"

    def job_handle(self, run_id):
        return self.run_dir(run_id) / "job.json"

    def run_warnings(self, run_id):
        """What went wrong without failing the run, one JSON object a line (``RunWarnings``)."""
        return self.run_dir(run_id) / "warnings.jsonl"

    @property
    def models(self):
        return self.root / "models"

    def model_dir(self, name, version):
        return self.models / name / str(version)

    @property
    def datastores(self):
        return self.root / "datastores"

    def datastore_dir(self, name):
        return self.datastores / name

    @property
    def compute_locks(self):
        return self.root / "compute"

    @property
    def dispatcher_lock(self):
        return self.root / "dispatcher.lock"

    @property
    def snapshot_store(self):
        """Content-addressed files shared by the snapshots of this workspace's runs."""
        return self.root / "snapshot-store"
