"""The snapshot of a source directory, taken at submit time, and the job's working directory made from it.

What goes in (as azureml-core does it, ``azureml/_project/ignore_file.py`` and
``_restclient/snapshots_client.py``)
    The ignore file is ``.amlignore`` in the source directory when it exists, else
    ``.gitignore`` there; only that one file counts (azureml reads no nested ignore files and
    never combines the two). Its lines are gitignore patterns (``pathspec``'s
    "gitwildmatch", azureml's own choice) matched against each path relative to the source
    directory. As in azureml, a directory is left out whole when its path (without a trailing
    '/') matches; otherwise each file below it is matched on its own, so ``build/`` with
    ``!build/keep.txt`` keeps ``build/keep.txt``. amlocal only takes a shortcut azureml does
    not: when the ignore file has no '!' pattern, a directory whose path with a trailing '/'
    matches (``.venv/``) is not walked at all, since every file below it would be left out
    anyway. (gitwildmatch patterns end in ``.*``, which does not match a newline: a file named
    with a newline inside such a directory is left out by amlocal, kept by azureml.)

What amlocal always leaves out (azureml itself leaves out nothing unless the ignore file
says so)
    ``.git``, ``__pycache__``, ``*.pyc`` and ``.ipynb_checkpoints`` anywhere: version-control
    and interpreter caches that no script reads, and that azureml's own default ignore file
    (written by ``Project`` / ``create_if_not_exists``) lists too, except the caches; and at
    the top level only ``outputs``, ``logs``, ``azureml-logs`` and ``azureml-setup``: the run's
    own directories, where a stale local copy would appear as this run's results. azureml's
    default list also has ``.azureml`` and ``docs``; amlocal keeps them, as azureml does for
    a directory without an ignore file.

Symbolic links: kept when they stay inside the tree, skipped with a warning otherwise
    Azure's snapshot uploads what a link points to (a file's content, a directory's files),
    so a link to a file or directory inside the source directory is snapshotted as that
    content, under the link's own path (ignore rules apply to the link's path, as in
    azureml). A link that leads outside the source directory, dangles, or loops (points to
    its own directory or a parent of it) is skipped and named in the report and its warnings:
    a snapshot never copies a host file from outside the source tree (``~/.ssh``, ``/etc``),
    and a skip rather than a refusal keeps the common harmless cases working (an editor's
    dangling lock link ``.#notes.md``, a ``data -> /mnt/data`` link the script does not need
    in the job). FIFOs, sockets, devices and unreadable files are skipped with a warning too.

Limits
    Above Azure ML's limits (``SNAPSHOT_MAX_SIZE_BYTES`` = 300 MiB, ``SNAPSHOT_MAX_FILES`` =
    2,000 files, azureml ``_restclient/constants.py``) the report warns and names the
    entries that dominate the size. With ``strict=True`` (for the Azure backend) it raises
    ``SnapshotException`` with azureml's own message instead; like azureml, the environment
    variable ``AML_SNAPSHOT_NO_FILE_LIMIT`` lifts the file count limit. (azureml counts only the
    files that changed since the last snapshot of the same directory; amlocal counts all.)

Store, speed and atomicity
    File contents go to a content-addressed store shared by the workspace's runs
    (``<store>/objects/ab/<sha256>``, read-only 0444, or 0555 for executable files, never
    changed in place). A snapshot is a tree of hard links to them, itself content-addressed
    (``<store>/trees/<digest of names, contents and modes>``), and the run's ``snapshot_dir``
    is a relative symbolic link to its tree, with ``<snapshot_dir>.ref`` a hard link to the
    tree's marker ``<tree>.ref`` (its link count says how many runs use the tree; deleting a
    run's directory releases it, ``prune_store`` removes unused trees and objects). A stat cache
    (per source directory: path, size, mtime_ns, ctime_ns, inode, device -> digest) spares
    re-reading unchanged files, so a tree unchanged since the last run costs a directory walk
    and one link; a changed tree costs one ``link`` per unchanged file. A file changed within
    ``RACY_SECONDS`` of a snapshot is not cached, since a second change in the same clock tick
    would leave its stat unchanged. A new tree is built as
    ``<store>/trees/.amlocal-partial-snapshot-<pid>-<random>`` and renamed into place, and the
    run's link is made under a partial name and renamed too: an interrupted snapshot leaves
    nothing that looks like a snapshot, and ``remove_partial_snapshots`` / ``prune_store``
    clear such leftovers.
"""

import errno
import hashlib
import json
import os
import re
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import pathspec

from .exceptions import InvalidArgumentError, SnapshotException
from .rules.paths import copy_fd

AML_IGNORE_FILE = ".amlignore"
GIT_IGNORE_FILE = ".gitignore"
ONE_MB = 1024 * 1024
SNAPSHOT_MAX_SIZE_BYTES = 300 * ONE_MB
SNAPSHOT_MAX_FILES = 2000
ALWAYS_EXCLUDED = (".git", "__pycache__", "*.pyc", ".ipynb_checkpoints",
                   "/outputs", "/logs", "/azureml-logs", "/azureml-setup")
PARTIAL_PREFIX = ".amlocal-partial-snapshot-"
RACY_SECONDS = 1.0
MAX_ENTRIES = 1_000_000
_FICLONE = 0x40049409          # ioctl(dst, FICLONE, src): share blocks on btrfs, xfs, ...
_CHUNK = 1 << 20
_PROGRESS_SECONDS = 0.25


@dataclass(frozen=True)
class SkippedLink:
    name: str        # the link's path, relative to the source directory
    target: str      # what it points to, as read
    reason: str      # "outside the source directory", "dangling", "a loop"


@dataclass(frozen=True)
class SnapshotProgress:
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int

    def line(self):
        return "Snapshot: {:,} of {:,} files, {:.1f} of {:.1f} MB".format(
            self.files_done, self.files_total, self.bytes_done / ONE_MB, self.bytes_total / ONE_MB)


@dataclass(frozen=True)
class SnapshotReport:
    source: str
    snapshot: str
    ignore_file: str           # ".amlignore", ".gitignore" or None
    files: int
    bytes: int
    copied: int                # files whose content was new to the store (and copied into it)
    copied_bytes: int
    linked: int                # files whose content the store already had
    hashed: int                # files read to learn their digest (the stat cache missed)
    skipped_links: tuple = ()
    warnings: tuple = ()
    largest: tuple = ()        # (top-level entry, bytes), largest first ("data/" for a directory)
    tree: str = None           # the store's tree that ``snapshot`` links to (shared by identical snapshots)


@dataclass(frozen=True)
class MaterializeReport:
    files: int
    linked: int
    copied: int
    bytes: int


@dataclass
class _File:
    name: str
    path: str
    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    dev: int
    executable: bool


_ALWAYS_ANYWHERE = frozenset(name for name in ALWAYS_EXCLUDED if not name.startswith(("/", "*")))
_ALWAYS_SUFFIXES = tuple(name[1:] for name in ALWAYS_EXCLUDED if name.startswith("*"))
_ALWAYS_TOP = frozenset(name[1:] for name in ALWAYS_EXCLUDED if name.startswith("/"))


def _always_excluded(name):
    """ALWAYS_EXCLUDED as gitignore patterns match, for a path whose parents were not excluded."""
    base = name.rpartition("/")[2]
    return base in _ALWAYS_ANYWHERE or base.endswith(_ALWAYS_SUFFIXES) or name in _ALWAYS_TOP


class _Rules:
    """Which paths are left out: amlocal's fixed list, then the project's ignore file."""

    def __init__(self, source_root):
        self.ignore_file, self.spec, self.warnings = None, None, []
        self.match = None
        aml = os.path.join(source_root, AML_IGNORE_FILE)
        git = os.path.join(source_root, GIT_IGNORE_FILE)
        chosen = aml if os.path.exists(aml) or not os.path.exists(git) else git
        if not os.path.exists(chosen):
            return
        self.ignore_file = os.path.basename(chosen)
        try:
            real = os.path.realpath(chosen)
            if not _is_under(os.path.realpath(source_root), real):
                raise OSError(errno.EPERM, "it is a link leading outside the source directory")
            with open(real, "r", encoding="utf-8", errors="replace") as handle:
                lines = handle.readlines()
        except OSError as error:
            self.warnings.append("{} could not be read ({}); no ignore rules were applied."
                                 .format(self.ignore_file, getattr(error, "strerror", None) or error))
            return
        try:
            self.spec = pathspec.PathSpec.from_lines("gitwildmatch", lines)
        except (ValueError, re.error) as error:  # azureml fails the submit on such a line too ([z-a] is a re.error)
            raise InvalidArgumentError("{} in {} has a line that is not a gitignore pattern: {}. Fix or remove "
                                       "that line.".format(self.ignore_file, source_root, error)) from None
        self.negations = any(pattern.include is False for pattern in self.spec.patterns)
        self.match = self.spec.match_file
        if not self.negations:
            # Without '!' patterns a path is left out when any pattern matches: one regex of them
            # all gives the same answer as pathspec's pattern-by-pattern loop, in one C call.
            regexes = [pattern.regex.pattern.replace("(?P<ps_d>", "(?:")
                       for pattern in self.spec.patterns if pattern.include]
            if regexes:
                self.match = re.compile("|".join("(?:{})".format(r) for r in regexes)).match
            else:
                self.match = lambda name: None

    def excluded(self, name, is_dir):
        if _always_excluded(name):
            return True
        if self.match is None:
            return False
        if self.match(name):
            return True
        return is_dir and not self.negations and bool(self.match(name + "/"))


def _is_under(base, path):
    return path == base or path.startswith(base.rstrip(os.sep) + os.sep)


def _scan(root, rules):
    """The files and directories to snapshot, the links skipped, and warnings."""
    files, dirs, skipped, warnings = [], [], [], []
    root_stat = os.stat(root)
    stack = [(root, "", frozenset([(root_stat.st_dev, root_stat.st_ino)]))]
    while stack:
        directory, prefix, ancestors = stack.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            warnings.append("{} was left out: it cannot be listed ({}).".format(prefix or ".", error.strerror))
            continue
        subdirs = []
        for entry in entries:
            name = prefix + entry.name
            try:
                is_link = entry.is_symlink()
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # gone since the listing
            path = entry.path
            if is_link:
                link_is_dir = _link_points_to_dir(path)
                if rules.excluded(name, link_is_dir):
                    continue
                resolved = _resolve_link(root, path, name, ancestors, skipped)
                if resolved is None:
                    continue
                path, info = resolved
            elif rules.excluded(name, stat.S_ISDIR(info.st_mode)):
                continue
            if stat.S_ISDIR(info.st_mode):
                dirs.append(name)
                subdirs.append((path, name + "/", ancestors | {(info.st_dev, info.st_ino)}))
            elif stat.S_ISREG(info.st_mode):
                files.append(_File(name, path, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino,
                                   info.st_dev, bool(info.st_mode & 0o111)))
            else:
                warnings.append("{} was left out: it is not a regular file (a FIFO, socket or device)."
                                .format(name))
            if len(files) + len(dirs) > MAX_ENTRIES:
                raise InvalidArgumentError(
                    "The source directory {} has more than {:,} files and directories to snapshot (links to "
                    "directories count each time). Leave out what the job does not need with an {} file."
                    .format(root, MAX_ENTRIES, AML_IGNORE_FILE))
        stack.extend(reversed(subdirs))
    return files, dirs, skipped, warnings


def _link_points_to_dir(path):
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def _resolve_link(root, path, name, ancestors, skipped):
    """(real path, stat) of a link's target inside ``root``; else None, the skip recorded."""
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    try:
        info = os.stat(path)
    except OSError as error:
        reason = "a loop" if error.errno == errno.ELOOP else "dangling"
        skipped.append(SkippedLink(name, target, reason))
        return None
    real = os.path.realpath(path)
    if not _is_under(root, real):
        skipped.append(SkippedLink(name, target, "outside the source directory"))
        return None
    if stat.S_ISDIR(info.st_mode) and (info.st_dev, info.st_ino) in ancestors:
        skipped.append(SkippedLink(name, target, "a loop"))
        return None
    return real, info


def _size_warning(source, files, total):
    return ("The snapshot of {} has {:,} files, {:.1f} MB: above Azure ML's limits ({:,} files, {:.0f} MB), "
            "so a submit to Azure would fail. Largest: {}. Leave out what the job does not need with an {} file "
            "(gitignore patterns), or keep large data in a datastore."
            .format(source, len(files), total / ONE_MB, SNAPSHOT_MAX_FILES, SNAPSHOT_MAX_SIZE_BYTES / ONE_MB,
                    ", ".join("{} {:.1f} MB".format(n, b / ONE_MB) for n, b in _largest(files)[:5]),
                    AML_IGNORE_FILE))


def _largest(files):
    by_entry = {}
    for f in files:
        top, sep, _ = f.name.partition("/")
        key = top + "/" if sep else top
        by_entry[key] = by_entry.get(key, 0) + f.size
    return sorted(by_entry.items(), key=lambda item: (-item[1], item[0]))


def _check_limits(source, files, total, strict):
    """azureml's checks, in its order: size, then file count. Returns warnings (not strict)."""
    over_size = total > SNAPSHOT_MAX_SIZE_BYTES
    over_count = len(files) > SNAPSHOT_MAX_FILES and not os.environ.get("AML_SNAPSHOT_NO_FILE_LIMIT")
    if strict and over_size:
        raise SnapshotException(
            "====================================================================\n"
            "\n"
            "While attempting to take snapshot of {}\n"
            "Your total snapshot size exceeds the limit of {} MB.\n"
            "Please see http://aka.ms/aml-largefiles on how to work with large files.\n"
            "\n"
            "====================================================================\n"
            "\n".format(source, SNAPSHOT_MAX_SIZE_BYTES / ONE_MB))
    if strict and over_count:
        raise SnapshotException(
            "====================================================================\n"
            "\n"
            "While attempting to take snapshot of {}\n"
            "Your project exceeds the file limit of {}.\n"
            "\n"
            "====================================================================\n"
            "\n".format(source, SNAPSHOT_MAX_FILES))
    return [_size_warning(source, files, total)] if over_size or over_count else []


class _Store:
    def __init__(self, root):
        self.root = Path(root)
        self.objects = self.root / "objects"
        self._objects = str(self.objects)
        self.tmp = self.root / "tmp"
        self.trees = str(self.root / "trees")
        for directory in (self.root, self.objects, self.tmp, self.root / "stat-cache", self.root / "trees"):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def tree_path(self, digest):
        return "{}/{}".format(self.trees, digest)

    def object_path(self, digest, executable):
        return "{}/{}/{}{}".format(self._objects, digest[:2], digest, ".x" if executable else "")

    def cache_path(self, source_root):
        key = hashlib.sha256(os.fsencode(source_root)).hexdigest()[:32]
        return self.root / "stat-cache" / (key + ".json")

    def load_cache(self, source_root):
        try:
            with open(self.cache_path(source_root), "r", encoding="utf-8") as handle:
                data = json.load(handle)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def save_cache(self, source_root, entries):
        target = self.cache_path(source_root)
        partial = target.with_name(target.name + ".{}.partial".format(os.urandom(4).hex()))
        try:
            with open(partial, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(entries, separators=(",", ":")))
            os.replace(partial, target)
        except OSError:
            try:
                os.unlink(partial)
            except OSError:
                pass

    def add(self, f):
        """Copy ``f`` into the store while hashing it; returns (digest, bytes, new)."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        source = os.open(f.path, flags)
        try:
            if not stat.S_ISREG(os.fstat(source).st_mode):
                raise OSError(errno.EINVAL, "not a regular file")
            partial = self.tmp / "{}-{}".format(os.getpid(), os.urandom(8).hex())
            out = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
            digest, size = hashlib.sha256(), 0
            try:
                while True:
                    chunk = os.read(source, _CHUNK)
                    if not chunk:
                        break
                    digest.update(chunk)
                    size += len(chunk)
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(out, view):]
            finally:
                os.close(out)
        finally:
            os.close(source)
        hexdigest = digest.hexdigest()
        final = self.object_path(hexdigest, f.executable)
        try:
            os.chmod(partial, 0o555 if f.executable else 0o444)
            os.makedirs(os.path.dirname(final), mode=0o700, exist_ok=True)
            os.link(partial, final)
            new = True
        except FileExistsError:
            new = False
        finally:
            os.unlink(partial)
        return hexdigest, size, new


def _place(store_object, target):
    """Hard-link a store object into the snapshot; a copy when links cannot be made.
    Returns True for a link. FileNotFoundError when the object is gone."""
    try:
        os.link(store_object, target)
        return True
    except OSError as error:
        if error.errno not in (errno.EMLINK, errno.EXDEV, errno.EPERM):
            raise
    _copy_file(store_object, target, os.stat(store_object).st_mode & 0o777)
    return False


def _select(source_dir, strict):
    """What goes in a snapshot of ``source_dir``: (source, rules, files, dirs, skipped links,
    warnings, total bytes), its limits checked (``strict``: raising as azureml does)."""
    source = os.path.realpath(os.fspath(source_dir))
    if not os.path.isdir(source):
        raise InvalidArgumentError("The source directory {} does not exist or is not a directory. Pass the "
                                   "directory holding the training script as source_directory.".format(source_dir))
    rules = _Rules(source)
    files, dirs, skipped, warnings = _scan(source, rules)
    warnings = rules.warnings + warnings
    warnings += ["{} was left out: a symbolic link {} ({} -> {}).".format(s.name, s.reason, s.name, s.target)
                 for s in skipped]
    total = sum(f.size for f in files)
    warnings += _check_limits(source, files, total, strict)
    return source, rules, files, dirs, skipped, warnings, total


def check_snapshot(source_dir):
    """What a snapshot of ``source_dir`` would hold, checked against Azure ML's limits as a submit
    to Azure checks them: raises ``SnapshotException`` (azureml's message) over them. Returns
    (files, bytes, warnings). Copies nothing."""
    _, _, files, _, _, warnings, total = _select(source_dir, strict=True)
    return len(files), total, warnings


def take_snapshot(source_dir, snapshot_dir, store_dir, strict=False, progress=None, racy_seconds=RACY_SECONDS):
    """Snapshot ``source_dir`` into ``snapshot_dir`` (which must not exist yet), its contents in
    the store ``store_dir``; returns a ``SnapshotReport``. See the module docstring for what goes in.

    ``progress``, when given, is called with ``SnapshotProgress`` at the start, about every
    0.25 s and at the end. ``strict`` raises ``SnapshotException`` over Azure ML's limits
    (else the report warns). Raises ``InvalidArgumentError`` when ``source_dir`` is not a
    directory and FileExistsError when ``snapshot_dir`` exists; never a raw ``shutil.Error``.
    """
    snapshot = Path(snapshot_dir)
    if os.path.lexists(snapshot):
        raise FileExistsError(errno.EEXIST, "the run already has a snapshot", str(snapshot))
    started_ns = time.time_ns()
    source, rules, files, dirs, skipped, warnings, total = _select(source_dir, strict)

    store = _Store(store_dir)
    cache = store.load_cache(source)
    racy_ns = started_ns - int(racy_seconds * 1e9)
    digests = [_cached_digest(cache, f) for f in files]
    counts = {"copied": 0, "copied_bytes": 0, "linked": 0, "hashed": 0}
    snapshot.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    reporter = _Reporter(progress, len(files), total)
    tree = None
    if all(digests):   # every file known unchanged: the same tree may exist already
        tree = store.tree_path(_tree_digest(dirs, files, digests))
        if os.path.isdir(tree):
            counts["linked"] = len(files)
            placed = list(zip(files, digests))
        else:
            tree = None
    if tree is None:
        tree, placed = _build_tree(store, files, dirs, digests, counts, warnings, reporter)
    _link_run_snapshot(tree, snapshot)
    new_cache = {f.path: _stamp(f) + [digest] for f, digest in placed if max(f.mtime_ns, f.ctime_ns) < racy_ns}
    if new_cache != cache:
        store.save_cache(source, new_cache)
    reporter.finish()
    return SnapshotReport(
        source=source, snapshot=str(snapshot), ignore_file=rules.ignore_file, files=len(placed),
        bytes=sum(f.size for f, _ in placed), copied=counts["copied"], copied_bytes=counts["copied_bytes"],
        linked=counts["linked"], hashed=counts["hashed"], skipped_links=tuple(skipped), warnings=tuple(warnings),
        largest=tuple(_largest(files)[:10]), tree=tree)


def _stamp(f):
    return [f.size, f.mtime_ns, f.ctime_ns, f.ino, f.dev]


def _cached_digest(cache, f):
    known = cache.get(f.path)
    if isinstance(known, list) and len(known) == 6 and known[:5] == _stamp(f) and isinstance(known[5], str):
        return known[5]
    return None


def _tree_digest(dirs, files, digests):
    """The identity of a snapshot: its directories and, per file, name, content and executable bit."""
    digest = hashlib.sha256()
    for name in dirs:
        digest.update(b"d\0" + os.fsencode(name) + b"\0")
    for f, content in zip(files, digests):
        digest.update(b"f\0" + os.fsencode(f.name) + b"\0" + content.encode() + (b"\0x\0" if f.executable else b"\0-\0"))
    return digest.hexdigest()


def _build_tree(store, files, dirs, digests, counts, warnings, reporter):
    """Link (or add) every file into a new tree under the store; returns (tree path, [(file, digest)])."""
    partial = "{}/{}{}-{}".format(store.trees, PARTIAL_PREFIX, os.getpid(), os.urandom(6).hex())
    os.mkdir(partial, 0o700)
    placed, done_bytes = [], 0
    try:
        base = partial + "/"
        for name in dirs:
            os.mkdir(base + name, 0o700)
        for index, (f, digest) in enumerate(zip(files, digests)):
            target = base + f.name
            done = False
            if digest:
                try:
                    counts["linked" if _place(store.object_path(digest, f.executable), target) else "copied"] += 1
                    done = True
                except FileNotFoundError:  # the object was pruned: read the file again
                    digest = None
            if not done:
                try:
                    digest, size, new = store.add(f)
                    try:
                        linked = _place(store.object_path(digest, f.executable), target)
                    except FileNotFoundError:  # pruned in between: add it once more
                        digest, size, new = store.add(f)
                        linked = _place(store.object_path(digest, f.executable), target)
                except OSError as error:
                    warnings.append("{} was left out: it cannot be read ({}).".format(f.name, error.strerror or error))
                    continue
                counts["hashed"] += 1
                if new or not linked:
                    counts["copied"] += 1
                    counts["copied_bytes"] += size
                else:
                    counts["linked"] += 1
            placed.append((f, digest))
            done_bytes += f.size
            reporter.update(index + 1, done_bytes)
        tree = store.tree_path(_tree_digest(dirs, [f for f, _ in placed], [d for _, d in placed]))
        try:
            os.rename(partial, tree)
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            shutil.rmtree(partial, ignore_errors=True)   # the same tree was made meanwhile
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return tree, placed


def _link_run_snapshot(tree, snapshot):
    """Make ``snapshot`` a link to ``tree`` in one rename, and hard-link the tree's marker
    ``<tree>.ref`` beside it (``<snapshot>.ref``): the marker's link count is 1 + the number of
    runs using the tree, which is how ``prune_store`` knows a tree is unused."""
    parent = str(snapshot.parent)
    partial = "{}/{}{}-{}".format(parent, PARTIAL_PREFIX, os.getpid(), os.urandom(6).hex())
    os.symlink(os.path.relpath(tree, parent), partial)
    try:
        os.close(os.open(tree + ".ref", os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600))
        try:
            os.link(tree + ".ref", str(snapshot) + ".ref")
        except FileExistsError:
            pass
        os.rename(partial, snapshot)
    except BaseException:
        os.unlink(partial)
        raise


class _Reporter:
    def __init__(self, callback, files_total, bytes_total):
        self.callback, self.files_total, self.bytes_total = callback, files_total, bytes_total
        self.files_done = self.bytes_done = 0
        self.last = time.monotonic()
        self._send()

    def _send(self):
        if self.callback is not None:
            self.callback(SnapshotProgress(self.files_done, self.files_total, self.bytes_done, self.bytes_total))

    def update(self, files_done, bytes_done):
        self.files_done, self.bytes_done = files_done, bytes_done
        now = time.monotonic()
        if files_done == 1 or now - self.last >= _PROGRESS_SECONDS:
            self.last = now
            self._send()

    def finish(self):
        self.files_done, self.bytes_done = self.files_total, self.bytes_total
        self._send()


def _copy_file(source, target, mode):
    """A real copy (reflink where the file system shares blocks, else copy_file_range)."""
    src = os.open(source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        dst = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                      | getattr(os, "O_CLOEXEC", 0), mode)
        try:
            try:
                import fcntl
                fcntl.ioctl(dst, _FICLONE, src)
            except (ImportError, OSError):
                copy_fd(src, dst)
        finally:
            os.close(dst)
        os.chmod(target, mode)  # the umask may have narrowed it
    finally:
        os.close(src)


def materialize(snapshot_dir, workdir, link, owner=None):
    """Build the job's writable working directory ``workdir`` from ``snapshot_dir``.

    ``link=True`` hard-links the (read-only) store files: a job can replace such a file but
    not change it in place, so use it only when the job cannot write through the link
    anyway or does not need to (the caller decides; a job running under another uid than
    the store's owner could not write through a 0444 link). ``link=False`` makes real,
    writable copies (0644, 0755 for executables), sharing blocks where the file system can.
    ``owner`` = (uid, gid) chowns every directory and copy made. Returns a ``MaterializeReport``.
    """
    source, target = Path(snapshot_dir), Path(workdir)
    target.mkdir(mode=0o755, parents=True, exist_ok=True)
    counts = {"files": 0, "linked": 0, "copied": 0, "bytes": 0}
    if owner is not None:
        os.chown(target, *owner)
    for directory, subdirs, names in os.walk(source):
        relative = os.path.relpath(directory, source)
        here = target if relative == "." else target / relative
        for name in sorted(subdirs):
            (here / name).mkdir(mode=0o755, exist_ok=True)
            if owner is not None:
                os.chown(here / name, *owner)
        for name in sorted(names):
            src = os.path.join(directory, name)
            info = os.lstat(src)
            if not stat.S_ISREG(info.st_mode):
                continue  # snapshots hold only files and directories
            counts["files"] += 1
            counts["bytes"] += info.st_size
            if link and _place(src, here / name):
                counts["linked"] += 1
                continue
            if link:
                counts["copied"] += 1
                continue
            _copy_file(src, here / name, 0o755 if info.st_mode & 0o111 else 0o644)
            if owner is not None:
                os.chown(here / name, *owner)
            counts["copied"] += 1
    return MaterializeReport(**counts)


def remove_partial_snapshots(directory, older_than_seconds=3600):
    """Remove leftovers of interrupted snapshots (``.amlocal-partial-snapshot-*``: a directory under
    ``<store>/trees`` or a link in a run's directory) directly under ``directory`` that are older
    than ``older_than_seconds``; returns the paths removed."""
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if not entry.name.startswith(PARTIAL_PREFIX):
            continue
        if now - entry.stat(follow_symlinks=False).st_mtime < older_than_seconds:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            os.unlink(entry.path)
        removed.append(entry.path)
    return removed


def prune_store(store_dir, older_than_seconds=3600):
    """Remove the trees no run uses any more (their ``.ref`` marker has no other link), then the
    objects no tree uses (link count 1), and leftovers older than ``older_than_seconds``;
    returns (objects removed, bytes freed). Run it while no snapshot is being taken (``gc``)."""
    trees = os.path.join(store_dir, "trees")
    remove_partial_snapshots(trees, older_than_seconds)
    try:
        entries = list(os.scandir(trees))
    except FileNotFoundError:
        entries = []
    for entry in entries:
        if entry.name.endswith(".ref") or entry.name.startswith(PARTIAL_PREFIX):
            continue
        marker = entry.path + ".ref"
        try:
            users = os.lstat(marker).st_nlink - 1
        except FileNotFoundError:
            users = 0
        if users <= 0:
            shutil.rmtree(entry.path, ignore_errors=True)
            if os.path.lexists(marker):
                os.unlink(marker)
    removed = freed = 0
    for directory, _, names in os.walk(os.path.join(store_dir, "objects")):
        for name in names:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
                os.unlink(path)
                removed += 1
                freed += info.st_size
    now = time.time()
    for leftover in (Path(store_dir) / "tmp").glob("*"):
        try:
            if now - leftover.lstat().st_mtime >= older_than_seconds:
                leftover.unlink()
        except OSError:
            pass
    return removed, freed
