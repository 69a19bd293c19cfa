"""Paths built from input: run file names, containment, and reading files without following links.

Four rules live here, each once:

``run_file_name(name)``
    the one validation of run file names (``run.upload_file(name=...)``, ``outputs/...``,
    ``register_model(model_path=...)``): a relative, '/'-separated name. Backslashes count as
    separators (as the SDK treats Windows paths), so ``a\\..\\..\\x`` is the same as
    ``a/../../x``; empty and '.' parts are dropped; a '..' part, an absolute name, a drive
    letter (``C:x``), NUL and other control characters, lone surrogates and bidirectional
    text controls (which make a name display as another) are refused. Caps: the normalised
    name is at most 1,024 bytes in UTF-8 and 254 parts (Azure Blob Storage, where run files
    live on Azure, allows 1,024 characters and 254 path segments; counting bytes keeps the
    host path under PATH_MAX = 4,096 bytes even for non-ASCII names), and each part at most
    255 bytes (NAME_MAX of Linux file systems).

``relative_data_path(path, field)``
    the one validation of a path inside a datastore (``ds.path(...)``, an upload's target, a
    listing's prefix) and of ``as_download(path_on_compute=...)``, whichever backend takes it:
    the rule of run file names, except that '' (the datastore's root) is allowed; a '..' part
    would leave the datastore's container or the job's directory.

``contained(root, relative)`` / ``is_within(root, path)``
    the one containment check for a host path built from user input: the joined path is
    resolved (``realpath``: '..' and every symbolic link that already exists) and must stay
    under the resolved root. It checks a path before it is used; when the tree can change
    while amlocal works in it (a running job's directories), use the helpers below instead.

``open_file_under`` / ``copy_file_under`` / ``walk_under`` / ``copy_tree_under``
    reading a tree that someone else controls (a job's uploads and outputs): every component
    below the root is opened relative to its parent's descriptor with ``O_NOFOLLOW``, so a
    symbolic link anywhere below the root is refused rather than followed, even one created
    between a check and the use; only regular files are read (a FIFO would block, a device
    read anything), opened with ``O_NONBLOCK`` until ``fstat`` says so. The root itself is the
    caller's and may be a link. These need POSIX ``dir_fd`` support (Linux, macOS).
"""

import errno
import os
import pathlib
import re
import stat
from collections import namedtuple

try:
    import fcntl
except ImportError:  # Windows: the no-follow helpers are unavailable there, the rest works
    fcntl = None

from .errors import (FileTooLarge, InvalidRunFileName, NotARegularFile, PathOutsideRoot,
                     RuleViolation, SymlinkRefused, violation)

MAX_RUN_FILE_NAME_BYTES = 1024
MAX_RUN_FILE_NAME_PARTS = 254
MAX_NAME_PART_BYTES = 255
MAX_TREE_DEPTH = 128

_RUN_FILE_EXAMPLE = "outputs/model.pkl"
# C0 and C1 controls (NUL, newline, escape, ...), lone surrogates, and the bidirectional
# marks and overrides.
_BAD_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_DRIVE = re.compile(r"[A-Za-z]:")

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
_DIR_FLAGS = os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC
_COPY_CHUNK = 8 << 20


def run_file_name(name, field="run file name"):
    """The normalised run file name (``"a/b.txt"``) of ``name`` (str or path-like), or
    ``InvalidRunFileName`` saying what is wrong. See the module docstring for the rule."""
    return _relative_name(name, field, InvalidRunFileName, "a run file name", "the run", _RUN_FILE_EXAMPLE)


_DATA_PATH_EXAMPLE = "data/iris"


def relative_data_path(path, field="path_on_datastore", within="its datastore"):
    """The normalised path (``"data/iris"``; ``""`` for the root) of ``path`` (str, path-like or
    None) inside ``within`` (a datastore, or "the job's working directory"), or
    ``PathOutsideRoot`` saying what is wrong. See the module docstring for the rule."""
    if path is None:
        return ""
    return _relative_name(path, field, PathOutsideRoot, "a data path", within, _DATA_PATH_EXAMPLE,
                          root_allowed=True)


def _relative_name(name, field, error, noun, relative_to, example, root_allowed=False):
    """``name`` normalised to relative '/'-separated parts, or ``error`` (a RuleViolation class)
    saying in terms of ``noun`` which part of the rule it breaks."""
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str):
        raise violation(error, field, name, "{} must be a str, not {}".format(noun, type(name).__name__), example)
    if len(name) > 4 * MAX_RUN_FILE_NAME_BYTES:  # before any work on a huge value
        raise violation(error, field, name, "{} has at most {:,} bytes".format(noun, MAX_RUN_FILE_NAME_BYTES),
                        example)
    bad = _BAD_CHARACTER.search(name)
    if bad:
        raise violation(error, field, name, "{} must not contain the control character U+{:04X}"
                        .format(noun, ord(bad.group())), example)
    text = name.replace("\\", "/")
    if text.startswith("/"):
        raise violation(error, field, name, "{} is relative to {}, not an absolute path".format(noun, relative_to),
                        example)
    if _DRIVE.match(text):
        raise violation(error, field, name, "{} must not start with a drive letter".format(noun), example)
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if not parts:
        if root_allowed:
            return ""
        raise violation(error, field, name, "{} must name a file".format(noun), example)
    if ".." in parts:
        raise violation(error, field, name, "{} must not contain a '..' part".format(noun), example)
    normalised = "/".join(parts)
    if len(normalised.encode("utf-8")) > MAX_RUN_FILE_NAME_BYTES:
        raise violation(error, field, name, "{} has at most {:,} bytes in UTF-8"
                        .format(noun, MAX_RUN_FILE_NAME_BYTES), example)
    if len(parts) > MAX_RUN_FILE_NAME_PARTS:
        raise violation(error, field, name, "{} has at most {} '/'-separated parts"
                        .format(noun, MAX_RUN_FILE_NAME_PARTS), example)
    for part in parts:
        if len(part.encode("utf-8")) > MAX_NAME_PART_BYTES:
            raise violation(error, field, name, "each part of {} has at most {} bytes in UTF-8"
                            .format(noun, MAX_NAME_PART_BYTES), example)
    return normalised


def _is_under(base, path):
    return path == base or path.startswith(base.rstrip(os.sep) + os.sep)


def contained(root, relative, field="path"):
    """``root/relative`` resolved (a ``pathlib.Path``) when it stays inside ``root``; else
    ``PathOutsideRoot`` naming the field, the value and where it leads.

    ``relative`` (str or path-like) must be relative; '' and '.' give the root itself.
    Resolving follows every symbolic link that already exists, so a link under ``root`` that
    points outside is refused too. The path need not exist.
    """
    if isinstance(relative, os.PathLike):
        relative = os.fspath(relative)
    if not isinstance(relative, str):
        raise violation(PathOutsideRoot, field, relative,
                        "a path must be a str, not {}".format(type(relative).__name__), "data/train")
    if "\x00" in relative:
        raise violation(PathOutsideRoot, field, relative, "a path must not contain NUL", "data/train")
    if os.path.isabs(relative) or relative.startswith(("/", "\\")):
        raise violation(PathOutsideRoot, field, relative,
                        "the path must be relative to {}".format(os.fspath(root)), "data/train")
    base = os.path.realpath(os.fspath(root))
    full = os.path.realpath(os.path.join(base, relative))
    if not _is_under(base, full):
        raise violation(PathOutsideRoot, field, relative,
                        "it leads to {}, outside {} (through '..' or a symbolic link)".format(full, base),
                        "data/train")
    return pathlib.Path(full)


def is_within(root, path):
    """True when ``path`` (absolute, or relative to the current directory) resolves inside
    ``root`` (or is the root); every existing link is followed first. Never raises."""
    try:
        base = os.path.realpath(os.fspath(root))
        full = os.path.realpath(os.fspath(path))
    except (TypeError, ValueError):
        return False
    return _is_under(base, full)


# -- no-follow access under a root ------------------------------------------------------------

def _refuse_link_or_raise(error, dir_fd, part, shown_name, root, field):
    """After ``open`` failed on ``part``: a ``SymlinkRefused`` when it is a link, else ``error``."""
    try:
        is_link = stat.S_ISLNK(os.lstat(part, dir_fd=dir_fd).st_mode)
    except OSError:
        is_link = False
    if is_link:
        return violation(SymlinkRefused, field, shown_name,
                         "{!r} under {} is a symbolic link; links are never followed here"
                         .format(part, os.fspath(root)))
    return error


def _open_dir_at(dir_fd, part, shown_name, root, field):
    try:
        return os.open(part, _DIR_FLAGS | _O_NOFOLLOW, dir_fd=dir_fd)
    except OSError as error:
        raise _refuse_link_or_raise(error, dir_fd, part, shown_name, root, field)


def _open_parent(root, parts, shown_name, field):
    """A descriptor of the directory ``root/parts[:-1]``, walked without following links."""
    fd = os.open(os.fspath(root), _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            child = _open_dir_at(fd, part, shown_name, root, field)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_file_under(root, relative, field="file"):
    """A read-only descriptor of the regular file ``root/relative``, opened without
    following any symbolic link below ``root``. The caller closes it.

    ``relative`` must be a valid run file name (``InvalidRunFileName`` otherwise). Raises
    ``SymlinkRefused`` when any component is a link, ``NotARegularFile`` for a directory,
    FIFO, socket or device, and OSError (FileNotFoundError, ...) as ``open`` does.
    """
    name = run_file_name(relative, field)
    parts = name.split("/")
    parent = _open_parent(root, parts, name, field)
    try:
        try:
            fd = os.open(parts[-1], os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_NOCTTY | _O_CLOEXEC,
                         dir_fd=parent)
        except OSError as error:
            raise _refuse_link_or_raise(error, parent, parts[-1], name, root, field)
    finally:
        os.close(parent)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise violation(NotARegularFile, field, name,
                            "only regular files are read, and {} under {} is not one"
                            .format(name, os.fspath(root)))
        if fcntl is not None and _O_NONBLOCK:
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~_O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def copy_fd(source_fd, target_fd, max_bytes=None, field="file"):
    """Copy from the current offset of ``source_fd`` to ``target_fd`` (in the kernel where it
    can: ``copy_file_range``, which may share blocks); returns the byte count. Raises
    ``FileTooLarge`` once more than ``max_bytes`` would be copied."""
    total = 0
    use_range = hasattr(os, "copy_file_range")
    while True:
        want = _COPY_CHUNK if max_bytes is None else min(_COPY_CHUNK, max_bytes + 1 - total)
        if use_range:
            try:
                count = os.copy_file_range(source_fd, target_fd, want)
            except OSError as error:
                if error.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP,
                                       errno.EPERM, errno.EBADF):
                    raise
                use_range = False
                continue
        else:
            data = os.read(source_fd, want)
            count = len(data)
            view = memoryview(data)
            while view:
                view = view[os.write(target_fd, view):]
        if count == 0:
            return total
        total += count
        if max_bytes is not None and total > max_bytes:
            raise violation(FileTooLarge, field, total,
                            "the file is larger than the {:,} bytes allowed".format(max_bytes))


def copy_file_under(root, relative, dest_root, dest_name=None, max_bytes=None, mode=0o600,
                    field="file"):
    """Copy the regular file ``root/relative`` (opened as ``open_file_under`` does) to
    ``dest_root/dest_name`` (default: the same name), replacing the target in one rename;
    returns the byte count. The target name is validated and contained in ``dest_root``;
    a partial copy never remains (``FileTooLarge`` past ``max_bytes``)."""
    source = open_file_under(root, relative, field)
    try:
        name = run_file_name(relative if dest_name is None else dest_name, "target file name")
        target = contained(dest_root, name, "target file name")
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = target.parent / ".amlocal-partial-{}".format(os.urandom(8).hex())
        out = os.open(os.fspath(partial), os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC,
                      mode)
        try:
            try:
                count = copy_fd(source, out, max_bytes, field)
            finally:
                os.close(out)
            os.replace(os.fspath(partial), os.fspath(target))
        except BaseException:
            try:
                os.unlink(os.fspath(partial))
            except OSError:
                pass
            raise
        return count
    finally:
        os.close(source)


TreeEntry = namedtuple("TreeEntry", "name kind size")
TreeEntry.__doc__ = """One entry under a root: ``name`` relative and '/'-separated, ``kind`` one of
"file", "dir", "symlink", "other" (FIFO, socket, device) or "too-deep" (a directory below
MAX_TREE_DEPTH, not entered); ``size`` in bytes for files, else None."""


def walk_under(root, relative="", max_depth=MAX_TREE_DEPTH):
    """Yield a ``TreeEntry`` for everything below ``root/relative``, sorted by name, parents
    before children, never following a link: links and special files are yielded with their
    kind and not entered. Nothing is yielded when ``root/relative`` does not exist; a link
    on the way to it raises ``SymlinkRefused``."""
    base = "" if relative in ("", ".") else run_file_name(relative, "directory")
    parts = base.split("/") + ["."] if base else ["."]
    try:
        fd = _open_parent(root, parts, base or ".", "directory")
    except FileNotFoundError:
        return
    try:
        for entry in _walk_fd(fd, base, 1, max_depth):
            yield entry
    finally:
        os.close(fd)


def _walk_fd(dir_fd, prefix, depth, max_depth):
    with os.scandir(dir_fd) as listing:
        entries = sorted(listing, key=lambda e: e.name)
    for entry in entries:
        name = prefix + "/" + entry.name if prefix else entry.name
        try:
            if entry.is_symlink():
                yield TreeEntry(name, "symlink", None)
            elif entry.is_dir(follow_symlinks=False):
                if depth >= max_depth:
                    yield TreeEntry(name, "too-deep", None)
                    continue
                yield TreeEntry(name, "dir", None)
                child = _open_dir_at(dir_fd, entry.name, name, "", "directory")
                try:
                    for sub in _walk_fd(child, name, depth + 1, max_depth):
                        yield sub
                finally:
                    os.close(child)
            elif entry.is_file(follow_symlinks=False):
                yield TreeEntry(name, "file", entry.stat(follow_symlinks=False).st_size)
            else:
                yield TreeEntry(name, "other", None)
        except (FileNotFoundError, SymlinkRefused):
            continue  # changed under us: gone, or swapped for a link; not followed either way


CopyReport = namedtuple("CopyReport", "copied skipped bytes")
CopyReport.__doc__ = """What ``copy_tree_under`` did: ``copied`` a list of (name, bytes), ``skipped``
a list of (name, reason), ``bytes`` the total copied."""


def copy_tree_under(root, relative, dest_root, dest_prefix=None, max_files=None, max_bytes=None,
                    mode=0o600):
    """Copy every regular file below ``root/relative`` to ``dest_root/dest_prefix/...``
    (``dest_prefix`` defaults to ``relative``) without following any link; returns a
    ``CopyReport``. Links (also ``root/relative`` itself), special files, names that are not
    valid run file names, files past ``max_files`` or past ``max_bytes`` in total, and files
    that vanish or change into links while being copied are skipped with a reason; nothing
    is moved or changed under ``root``. Never raises for what is under ``root``."""
    base = "" if relative in ("", ".") else run_file_name(relative, "directory")
    prefix = base if dest_prefix is None else ("" if dest_prefix in ("", ".")
                                               else run_file_name(dest_prefix, "target directory"))
    copied, skipped, total = [], [], 0
    try:
        entries = list(walk_under(root, base))
    except SymlinkRefused:
        return CopyReport([], [(base, "a symbolic link; links are never followed")], 0)
    except NotADirectoryError:
        return CopyReport([], [(base, "not a directory")], 0)
    reasons = {"symlink": "a symbolic link; links are never followed",
               "other": "not a regular file (FIFO, socket or device)",
               "too-deep": "nested deeper than {} directories".format(MAX_TREE_DEPTH)}
    for entry in entries:
        if entry.kind == "dir":
            continue
        if entry.kind != "file":
            skipped.append((entry.name, reasons[entry.kind]))
            continue
        inner = entry.name[len(base) + 1:] if base else entry.name
        try:
            target = run_file_name(prefix + "/" + inner if prefix else inner, "target file name")
        except InvalidRunFileName as error:
            skipped.append((entry.name, error.rule))
            continue
        if max_files is not None and len(copied) >= max_files:
            skipped.append((entry.name, "over the limit of {:,} files".format(max_files)))
            continue
        room = None if max_bytes is None else max_bytes - total
        if room is not None and entry.size > room:
            skipped.append((entry.name, "over the limit of {:,} bytes in total".format(max_bytes)))
            continue
        try:
            count = copy_file_under(root, entry.name, dest_root, target, max_bytes=room, mode=mode)
        except FileTooLarge:
            skipped.append((entry.name, "over the limit of {:,} bytes in total".format(max_bytes)))
            continue
        except RuleViolation as error:
            skipped.append((entry.name, "changed while being copied: {}".format(error.rule)))
            continue
        except (FileNotFoundError, PermissionError, NotADirectoryError) as error:
            skipped.append((entry.name, "cannot be read: {}".format(error.strerror)))
            continue
        copied.append((target, count))
        total += count
    return CopyReport(copied, skipped, total)
