"""A local datastore is a directory; these copy files in and out, printing progress as azureml does."""

import shutil
from pathlib import Path

from .._upload import upload_with_progress
from ..exceptions import InvalidArgumentError


def upload(root, files, overwrite, show_progress):
    root = Path(root)

    def put(source, name):
        target = _inside(root, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".amlocal-partial")
        shutil.copyfile(source, partial)
        partial.replace(target)

    return upload_with_progress(files, overwrite, show_progress, lambda name: _inside(root, name).exists(), put)


def list_files(root, prefix=None):
    root = Path(root)
    if not root.is_dir():
        return []
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return [n for n in names if not prefix or n.startswith(prefix.strip("/"))]


def download(root, target_path, prefix, overwrite, show_progress):
    names = list_files(root, prefix)
    if show_progress:
        print(f"Downloading {len(names)} files")
    count = 0
    for name in names:
        target = Path(target_path) / name
        if target.exists() and not overwrite:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(root) / name, target)
        count += 1
        if show_progress:
            print(f"Downloaded {name}, {count} files out of an estimated total of {len(names)}")
    return count


def _inside(root, name):
    name = str(name).replace("\\", "/")
    if name.startswith("/") or ".." in name.split("/"):
        raise InvalidArgumentError(f"Invalid datastore path {name!r}: use a relative path without '..'.")
    return root / name

