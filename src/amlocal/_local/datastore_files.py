"""A local datastore is a directory; these copy files in and out, printing progress as azureml does."""

import shutil
from pathlib import Path

from ..exceptions import InvalidArgumentError


def upload(root, files, overwrite, show_progress):
    root = Path(root)
    if show_progress:
        print(f"Uploading an estimated of {len(files)} files")
    uploaded = 0
    for index, (source, name) in enumerate(files, 1):
        target = _inside(root, name)
        if target.exists() and not overwrite:
            if show_progress:
                print(f"Target already exists. Skipping upload for {name}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".amlocal-partial")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
        uploaded += 1
        if show_progress:
            print(f"Uploaded {source}, {index} files out of an estimated total of {len(files)}")
    if show_progress:
        print(f"Uploaded {uploaded} files")
    return uploaded


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

