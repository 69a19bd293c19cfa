"""The snapshot of a run's source directory, taken at submit time (later edits don't leak in)."""

import shutil
from dataclasses import dataclass, field

SNAPSHOT_IGNORE = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".ipynb_checkpoints", "outputs", "logs")


@dataclass
class SnapshotReport:
    files: int = 0
    warnings: list = field(default_factory=list)


def take(source, target, layout):
    shutil.copytree(source, target, ignore=SNAPSHOT_IGNORE)
    return SnapshotReport(files=sum(1 for p in target.rglob("*") if p.is_file()))


def materialize(snapshot, workdir):
    """The job's writable working directory, a copy of the snapshot."""
    shutil.copytree(snapshot, workdir, dirs_exist_ok=True)
