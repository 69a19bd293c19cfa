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
    """Create ``path`` (and missing parents) readable by its owner only."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


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
