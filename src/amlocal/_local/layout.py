"""Where a local workspace keeps things, under ``$AMLOCAL_HOME/<workspace name>/``."""

from pathlib import Path


class WorkspaceLayout:
    def __init__(self, root):
        self.root = Path(root)

    @property
    def database(self):
        return self.root / "amlocal.db"

    @property
    def runs(self):
        return self.root / "runs"

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
