"""Datastores of a local workspace: one directory per datastore, copied in and out with the
progress lines azureml prints. Every path is checked to stay inside its datastore."""

import shutil
from pathlib import Path

from ..rules.names import validate_name
from ..rules.paths import contained
from ..rules.uploads import upload_with_progress
from .layout import make_private_dir
from ..stores.datastores import DEFAULT_DATASTORE, Datastores


class DirectoryDatastores(Datastores):
    """Datastores as directories under ``root`` (a local workspace's, or a fake's)."""

    def __init__(self, root):
        self.directory = Path(root)

    def root(self, datastore):
        """The directory of ``datastore`` (checked name; Azure's names are case-insensitive)."""
        return self.directory / validate_name("datastore", datastore).lower()

    def host_path(self, datastore, path):
        """Where ``path`` of ``datastore`` is on this machine (checked to stay inside it)."""
        return _inside(self.root(datastore), path or "")

    def names(self):
        present = {p.name for p in self.directory.iterdir()} if self.directory.is_dir() else set()
        return sorted(present | {DEFAULT_DATASTORE})

    def upload(self, datastore, files, overwrite=False, show_progress=True):
        root = self.root(datastore)
        # the workspace's directories are private; a datastore's own files stay readable by a
        # job that runs as another user (it gets them mounted)
        make_private_dir(self.directory)

        def put(source, name):
            target = _inside(root, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".amlocal-partial")
            shutil.copyfile(source, partial)
            partial.replace(target)

        return upload_with_progress(files, overwrite, show_progress, lambda name: _inside(root, name).exists(), put)

    def list(self, datastore, prefix=None):
        root = self.root(datastore)
        if not root.is_dir():
            return []
        names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and not p.is_symlink())
        return [n for n in names if not prefix or n.startswith(prefix.strip("/"))]

    def download(self, datastore, target_path, prefix=None, overwrite=False, show_progress=True):
        root = self.root(datastore)
        names = self.list(datastore, prefix)
        if show_progress:
            print(f"Downloading {len(names)} files")
        count = 0
        for name in names:
            target = Path(target_path) / name
            if target.exists() and not overwrite:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / name, target)
            count += 1
            if show_progress:
                print(f"Downloaded {name}, {count} files out of an estimated total of {len(names)}")
        return count

    def exists(self, datastore, path):
        return self.host_path(datastore, path).exists()


def _inside(root, name):
    return contained(root, str(name).replace("\\", "/"), "datastore path")
