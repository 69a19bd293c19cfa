"""Datastores and data references. Locally a datastore is a directory of the workspace; a
``DataReference`` given as a script parameter arrives in the job as a path (mounted read-only,
or downloaded into the job's working directory)."""

import os
import uuid
from pathlib import Path

from ..exceptions import InvalidArgumentError
from ..rules.names import validate_name
from ..rules.paths import relative_data_path
from ..specs import DataPathSpec
from ..stores.datastores import DEFAULT_DATASTORE


class DataReference:
    def __init__(self, datastore, data_reference_name=None, path_on_datastore=None, mode="mount",
                 path_on_compute=None, overwrite=False):
        self.datastore = datastore
        # As azureml: a reference to a path inside the datastore gets a fresh name (so two paths
        # of one datastore are two references); the datastore's root is named after the datastore.
        if not data_reference_name:
            inside = path_on_datastore and path_on_datastore not in ("/", ".", "./")
            data_reference_name = uuid.uuid4().hex if inside else datastore.name
        self.data_reference_name = data_reference_name
        self.path_on_datastore = path_on_datastore
        self.mode = mode
        self.path_on_compute = path_on_compute
        self.overwrite = overwrite

    def as_mount(self):
        return DataReference(self.datastore, self.data_reference_name, self.path_on_datastore, "mount")

    def as_download(self, path_on_compute=None, overwrite=False):
        return DataReference(self.datastore, self.data_reference_name, self.path_on_datastore, "download",
                             path_on_compute, overwrite)

    def _spec(self):
        """This reference as plain data (``amlocal.specs.DataPathSpec``), its paths checked."""
        on_datastore, on_compute = (os.fspath(p) if isinstance(p, os.PathLike) else p
                                    for p in (self.path_on_datastore, self.path_on_compute))
        relative_data_path(on_datastore, "path_on_datastore", f"datastore {self.datastore.name!r}")
        if on_compute is not None:
            relative_data_path(on_compute, "path_on_compute", "the job's working directory")
        return DataPathSpec(datastore=self.datastore.name, path_on_datastore=on_datastore or "",
                            mode=self.mode, path_on_compute=on_compute,
                            reference_name=self.data_reference_name, overwrite=self.overwrite)

    def __str__(self):
        return f"$AZUREML_DATAREFERENCE_{self.data_reference_name}"

    def __repr__(self):
        return f"DataReference({self.datastore.name}/{self.path_on_datastore or ''}, mode={self.mode})"


class Datastore:
    """A named store of files in the workspace (``azureml.core.Datastore``)."""

    def __init__(self, workspace, name=None):
        self.workspace = workspace
        self.name = validate_name("datastore", name or DEFAULT_DATASTORE)
        self.datastore_type = "AzureBlob"

    @staticmethod
    def get(workspace, datastore_name):
        return Datastore(workspace, datastore_name)

    @staticmethod
    def get_default(workspace):
        return Datastore(workspace)

    def upload(self, src_dir, target_path=None, overwrite=False, show_progress=True):
        source = Path(src_dir)
        if not source.is_dir():
            raise InvalidArgumentError(f"upload(src_dir={src_dir!r}): no such directory.")
        files = sorted(p for p in source.rglob("*") if p.is_file())
        pairs = [(p, _join(target_path, p.relative_to(source).as_posix())) for p in files]
        self._upload(pairs, overwrite, show_progress)
        return DataReference(self, path_on_datastore=target_path)

    def upload_files(self, files, relative_root=None, target_path=None, overwrite=False, show_progress=True):
        pairs = []
        for name in files:
            path = Path(name)
            if not path.is_file():
                raise InvalidArgumentError(f"upload_files: {name!r} is not a file.")
            relative = os.path.relpath(path, relative_root) if relative_root else path.name
            pairs.append((path, _join(target_path, Path(relative).as_posix())))
        self._upload(pairs, overwrite, show_progress)
        return DataReference(self, path_on_datastore=target_path)

    def _upload(self, pairs, overwrite, show_progress):
        self.workspace.stores.datastores.upload(self.name, pairs, overwrite=overwrite, show_progress=show_progress)

    def download(self, target_path, prefix=None, overwrite=False, show_progress=True):
        return self.workspace.stores.datastores.download(self.name, target_path, prefix=prefix, overwrite=overwrite,
                                                         show_progress=show_progress)

    def path(self, path=None, data_reference_name=None):
        return DataReference(self, data_reference_name, path)

    def as_mount(self):
        return DataReference(self).as_mount()

    def as_download(self, path_on_compute=None):
        return DataReference(self).as_download(path_on_compute)

    def __repr__(self):
        return f"Datastore(name={self.name!r})"


def _join(prefix, relative):
    return f"{prefix.strip('/')}/{relative}" if prefix else relative
