"""The code snapshot an SDK v2 job receives: the source directory as azure-ai-ml would upload it,
plus amlocal's runtime shim under ``translate.SHIM_FOLDER``: the directory every local job gets
first on its PYTHONPATH (``amlocal.local.job_shim_dir``: ``azureml.core.run`` for the unmodified
script and ``amlocal_rules``, the rules it shares with the host), so metrics take the same shapes
on every backend.

A job's ``code`` is one directory, so the two are staged together in a temporary directory. The
source is copied with azure-ai-ml's own ignore rule (``.amlignore``, else ``.gitignore``, at the
root; ``get_ignore_file``), so the staged tree holds exactly what a direct upload would; the
ignore files themselves stay behind, so they cannot hide the shim. Symbolic links are copied as
the files they point to when those stay inside the source directory and skipped (and named)
otherwise: a snapshot never carries a file from outside it.
"""

import os
import shutil
import tempfile
from pathlib import Path

from amlocal.exceptions import InvalidArgumentError
from amlocal.local import job_shim_dir

from .translate import SHIM_FOLDER

IGNORE_FILES = (".amlignore", ".gitignore")


def _ignore_rule(source):
    from azure.ai.ml._utils._asset_utils import get_ignore_file

    return get_ignore_file(source)


def stage(source_directory, parent=None):
    """A new directory holding the snapshot; the caller removes it (``shutil.rmtree``) once the job
    is submitted. Returns (directory, [skipped links])."""
    source = Path(source_directory).resolve()
    if not source.is_dir():
        raise InvalidArgumentError(f"source_directory {str(source)!r} is not a directory.")
    if (source / SHIM_FOLDER).exists():
        raise InvalidArgumentError(f"source_directory {str(source)!r} already has a {SHIM_FOLDER!r} entry, the name "
                                   "amlocal gives its runtime shim in the job's code: rename it.")
    rule = _ignore_rule(source)
    staged = Path(tempfile.mkdtemp(prefix="amlocal-v2-code-", dir=parent))
    skipped = []
    try:
        for folder, dirs, files in os.walk(source):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if not rule.is_file_excluded(here / d) and _inside(here / d, source,
                                                                                                 skipped))
            for name in sorted(files):
                path = here / name
                relative = path.relative_to(source)
                if here == source and name in IGNORE_FILES:
                    continue
                if rule.is_file_excluded(path) or not _inside(path, source, skipped):
                    continue
                target = staged / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        shutil.copytree(job_shim_dir(), staged / SHIM_FOLDER,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".complete", "*.partial"))
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return staged, skipped


def _inside(path, root, skipped):
    """Whether ``path`` (a link or not) resolves inside ``root``; links out of it are noted."""
    if not path.is_symlink():
        return True
    try:
        path.resolve(strict=True).relative_to(root)
        return True
    except (ValueError, OSError):  # outside the root, or a broken link
        skipped.append(str(path.relative_to(root)))
        return False
