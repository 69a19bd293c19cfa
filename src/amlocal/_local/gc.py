"""``amlocal gc``: what a local workspace can give back, and giving it back.

Always (nothing anyone needs):
    leftovers of interrupted submits (``staging/``) and snapshots, the working and control
    directories of runs that have ended, containers of this workspace whose run has ended
    (the backend's ``garbage``), unused snapshot store objects.
By policy (``older_than`` seconds and/or ``keep_last`` runs):
    the snapshots of runs that ended before the policy's cut; their history (metrics, logs,
    outputs) stays.
With ``images``:
    environment images (docker) or virtualenvs (process) not used for ``older_than`` (default a
    week), never one a run that has not ended needs; bytecode bundles no build used for as long.

A plan is made first (``plan``), so ``--dry-run`` shows exactly what ``apply`` would free.
Nothing that a run which has not ended uses is ever in a plan.
"""

import os
import shutil
import time
from dataclasses import dataclass, field

from ..rules import statuses
from ..snapshot import prune_store, remove_partial_snapshots
from .installer import bundle_garbage

STAGING_GRACE_SECONDS = 15 * 60
DEFAULT_IMAGE_AGE_SECONDS = 7 * 24 * 3600


@dataclass
class Item:
    """One thing to free: ``kind`` (a directory, a container, an image...), what it is, how
    many bytes it holds (when known), and how to free it."""
    kind: str
    what: str
    size: int
    free: object = field(repr=False, default=None)


@dataclass
class Plan:
    items: list = field(default_factory=list)

    @property
    def size(self):
        return sum(item.size for item in self.items)


def size_of(path):
    """Bytes under ``path`` (files counted once per inode; links not followed)."""
    total, seen = 0, set()
    for folder, directories, files in os.walk(path):
        for name in files + directories:
            try:
                info = os.lstat(os.path.join(folder, name))
            except OSError:
                continue
            if (info.st_dev, info.st_ino) not in seen and not os.path.isdir(os.path.join(folder, name)):
                seen.add((info.st_dev, info.st_ino))
                total += info.st_size
    return total


def plan(backend, older_than=None, keep_last=None, images=False, now=None):
    """What ``apply`` would free in ``backend``'s workspace (see the module docstring)."""
    now = time.time() if now is None else now
    layout, history = backend.layout, backend.history
    found = Plan()
    records = history.list_runs()
    ended = [r for r in records if r["status"] in statuses.TERMINAL]
    for entry in _entries(layout.staging):
        if now - entry.stat(follow_symlinks=False).st_mtime > STAGING_GRACE_SECONDS:
            found.items.append(Item("interrupted submit", entry.path, size_of(entry.path),
                                    lambda path=entry.path: shutil.rmtree(path, ignore_errors=True)))
    for record in ended:
        for part in (layout.run_workdir(record["run_id"]), layout.run_control(record["run_id"])):
            if os.path.isdir(part):
                found.items.append(Item("ended run's job directory", str(part), size_of(part),
                                        lambda path=part: shutil.rmtree(path, ignore_errors=True)))
    for record in _past_policy(ended, older_than, keep_last, now):
        snapshot = layout.run_snapshot(record["run_id"])
        if os.path.lexists(snapshot):
            found.items.append(Item("snapshot", f"{record['run_id']}", 0,
                                    lambda path=snapshot: _remove_snapshot(path)))
    found.items.append(Item("unused snapshot store objects", str(layout.snapshot_store), 0,
                            lambda: prune_store(str(layout.snapshot_store))))
    age = DEFAULT_IMAGE_AGE_SECONDS if older_than is None else older_than
    found.items.extend(backend.garbage(images=images, now=now, older_than=age))
    if images:
        found.items.extend(bundle_garbage(age, now))
    return found


def apply(found, say=print):
    """Free every item of ``found``; returns the bytes freed (as measured when planned)."""
    freed = 0
    for item in found.items:
        try:
            result = item.free()
        except Exception as err:  # one stubborn item must not stop the rest
            say(f"could not free {item.kind} {item.what}: {err}")
            continue
        if isinstance(result, tuple) and len(result) == 2:  # prune_store: (objects, bytes)
            item.size = result[1]
            if not result[0]:
                continue
        freed += item.size
        say(f"freed {item.kind}: {item.what}" + (f" ({human_size(item.size)})" if item.size else ""))
    return freed


def human_size(size):
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024


def _entries(directory):
    try:
        return list(os.scandir(directory))
    except FileNotFoundError:
        return []


def _past_policy(ended, older_than, keep_last, now):
    if older_than is None and keep_last is None:
        return []
    newest_first = sorted(ended, key=lambda r: r["end_time"] or r["created"], reverse=True)
    kept = set(r["run_id"] for r in newest_first[:keep_last]) if keep_last is not None else set()
    return [r for r in newest_first if r["run_id"] not in kept
            and (older_than is None or now - (r["end_time"] or r["created"]) > older_than)]


def _remove_snapshot(path):
    if os.path.isdir(path) and not os.path.islink(path):  # a snapshot of an older amlocal: a plain copy
        shutil.rmtree(path, ignore_errors=True)
    else:
        os.unlink(path)
    reference = f"{path}.ref"
    if os.path.lexists(reference):
        os.unlink(reference)
    remove_partial_snapshots(os.path.dirname(path), 0)


def delete_run(backend, run_id):
    """Remove an ended run (and, for a sweep, its children) from history and disk. Raises
    InvalidArgumentError when it has not ended."""
    from ..exceptions import InvalidArgumentError

    history = backend.history
    records = [history.get_run(run_id)] + history.list_runs(parent_run_id=run_id)
    running = [r["run_id"] for r in records if r["status"] not in statuses.TERMINAL]
    if running:
        raise InvalidArgumentError(f"Run {running[0]} has not ended ({history.get_run(running[0])['status']}); "
                                   f"cancel it first (amlocal run cancel {running[0]}).")
    for record in records:
        history.delete_run(record["run_id"])
        shutil.rmtree(backend.layout.run_dir(record["run_id"]), ignore_errors=True)
    return [r["run_id"] for r in records]
