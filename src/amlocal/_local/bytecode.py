"""Bytecode for built environments, compiled once per source file and kept in a store.

Compiling an environment's bytecode (``.pyc``) is most of a build's time when the wheels are
already on the machine: scikit-learn, SciPy and NumPy hold ~2,000 Python files, several
seconds of CPU on every build. Bytecode depends only on a file's source and the interpreter's
bytecode version, so this store keeps it by content:

    <store>/<cache tag>-<magic>/<first two chars of the source's sha256>/<the rest>.pyc

The key is the source's sha256 in the form wheel RECORD files already carry, so an installed
environment finds its bytecode without reading its sources. Entries are hash-checked pycs
(PEP 552): at import the interpreter compares the source's hash with the one recorded, so a pyc
that does not match its source (a stale or a tampered store, a RECORD that lies) is ignored
and the source compiled again: the store can make an import slower, never wrong.

Two commands, both stdlib only, run by the interpreter the bytecode is for:

    python bytecode.py compile --store DIR WHEEL...   fill the store from wheel files
    python bytecode.py restore [--store DIR]          put bytecode into this interpreter's
                                                      site-packages: from the store, else compiled

``compile`` runs on the host, with trusted inputs only (wheel files are read as data, never
executed); ``restore`` may run inside a build container and only reads the store, so nothing
an image or a package does can put bytecode into the store that other environments load.
Python 3.6 has no hash-checked pycs: there ``restore`` compiles everything (timestamped pycs).
"""

import base64
import hashlib
import importlib.util
import io
import marshal
import os
import re
import sys
import sysconfig
import time
import warnings
import zipfile

KEY = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: wheel members installed into site-packages: top-level files, or <name>.data/{purelib,platlib}/...
DATA_DIR = re.compile(r"^[^/]+\.data/(purelib|platlib)/(.+)$")
CHECKED_HASH = 0b11  # PEP 552 flags: hash-based, check the source


def store_dir(store):
    """The part of ``store`` for this interpreter's bytecode version."""
    tag = sys.implementation.cache_tag or "none"
    return os.path.join(store, "%s-%s" % (tag, importlib.util.MAGIC_NUMBER[:2].hex()))


def key_of(source):
    """The RECORD form of a file's sha256 (urlsafe base64, no padding)."""
    return base64.urlsafe_b64encode(hashlib.sha256(source).digest()).rstrip(b"=").decode("ascii")


def entry_path(directory, key):
    return os.path.join(directory, key[:2], key[2:] + ".pyc")


def bytecode(source, path):
    """A hash-checked pyc of ``source``, or None when it does not compile (as pip: skipped)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, TypeError, RecursionError):
        return None
    return (importlib.util.MAGIC_NUMBER + CHECKED_HASH.to_bytes(4, "little")
            + importlib.util.source_hash(source) + marshal.dumps(code))


def _write_atomically(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = "%s.%d.partial" % (path, os.getpid())
    with open(partial, "wb") as out:
        out.write(data)
    os.replace(partial, path)


# -- compile: the store, from wheel files --------------------------------------------------------

def _installed_as(member):
    """The path under site-packages of a wheel's .py member, or None if it goes elsewhere."""
    if not member.endswith(".py"):
        return None
    top = member.split("/", 1)[0]
    if top.endswith(".dist-info"):
        return None
    if top.endswith(".data"):
        match = DATA_DIR.match(member)
        return match.group(2) if match else None
    return member


def _compile_wheel(args):
    wheel, directory = args
    compiled = skipped = 0
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            relative = _installed_as(name)
            if relative is None:
                continue
            source = archive.read(name)
            target = entry_path(directory, key_of(source))
            if os.path.exists(target):
                skipped += 1
                continue
            data = bytecode(source, relative)
            if data is not None:
                _write_atomically(target, data)
                compiled += 1
    return compiled, skipped


def done_marker(directory, wheel):
    """Marks a wheel whose every file is in the store (by name, size and time: another file of
    the same name is compiled again), so that a later build skips it without opening it."""
    try:
        stat = os.stat(wheel)
    except OSError:
        return os.path.join(directory, "wheels", "missing")
    return os.path.join(directory, "wheels", "%s-%d-%d" % (os.path.basename(wheel), stat.st_size, stat.st_mtime_ns))


def compile_wheels(store, wheels):
    directory = store_dir(store)
    started = time.monotonic()
    todo = [w for w in wheels if not os.path.exists(done_marker(directory, w))]
    jobs = [(wheel, directory) for wheel in sorted(todo, key=lambda w: -_size(w))]  # largest first
    results = _in_parallel(_compile_wheel, jobs)
    for wheel in todo:
        _write_atomically(done_marker(directory, wheel), b"")
    compiled, known = sum(r[0] for r in results), sum(r[1] for r in results)
    if todo:
        print("Bytecode store: compiled %d files of %d wheels, %d already stored (%.1f s)"
              % (compiled, len(todo), known, time.monotonic() - started), flush=True)
    else:
        print("Bytecode store: holds the bytecode of all %d wheels" % len(wheels), flush=True)


def _in_parallel(function, jobs):
    """``function`` over ``jobs`` on every core, or in this process when that cannot help."""
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers <= 1:
        return [function(job) for job in jobs]
    try:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            return list(pool.map(function, jobs))
    except (OSError, ImportError, NotImplementedError):  # no /dev/shm, no fork: one process will do
        return [function(job) for job in jobs]


def _size(path):
    try:
        return os.path.getsize(path)
    except (OSError, TypeError):
        return 0


# -- bundle: the bytecode of a set of wheels as one tar, for a build container -------------------

def bundle(store, wheels, out):
    """Write to ``out`` a tar of the store's bytecode for ``wheels``, at the paths it takes under
    site-packages (``tar -x -C site-packages`` puts it in place: one pass of a C program, where
    ``restore`` looks up files one by one). Keys come from the wheels' RECORD files, so no source
    is read. A source the store lacks (one that does not compile) is left out."""
    import csv
    import tarfile

    directory, now = store_dir(store), int(time.time())
    partial = "%s.%d.partial" % (out, os.getpid())
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with tarfile.open(partial, "w", format=tarfile.GNU_FORMAT) as tar:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive:
                records = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/RECORD")]
                lines = archive.read(records[0]).decode("utf-8").splitlines() if records else []
            for row in csv.reader(lines):
                if len(row) < 2 or not row[1].startswith("sha256="):
                    continue
                relative, key = _installed_as(row[0]), row[1][7:]
                if relative is None or not KEY.match(key) or relative.startswith(("/", "../")) or "/../" in relative:
                    continue
                try:
                    with open(entry_path(directory, key), "rb") as stored:
                        data = stored.read()
                except OSError:
                    continue
                info = tarfile.TarInfo(importlib.util.cache_from_source(relative))
                info.size, info.mode, info.mtime = len(data), 0o644, now
                tar.addfile(info, io.BytesIO(data))
    os.replace(partial, out)


# -- restore: an environment's bytecode, from the store ------------------------------------------

def _site_packages():
    paths = sysconfig.get_paths()
    return sorted({os.path.realpath(paths["purelib"]), os.path.realpath(paths["platlib"])})


def _sources(site):
    """(source path, RECORD key or None) of every .py file the distributions in ``site`` installed
    there. RECORD paths that leave ``site`` (scripts, headers) or go through links are skipped."""
    root = site + os.sep
    for entry in sorted(os.listdir(site)):
        if not entry.endswith(".dist-info"):
            continue
        try:
            with open(os.path.join(site, entry, "RECORD"), encoding="utf-8") as record:
                lines = record.read().splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            path, _, rest = line.partition(",")
            path = path.strip('"')
            if not path.endswith(".py"):
                continue
            full = os.path.normpath(os.path.join(site, path))
            if not full.startswith(root) or os.path.realpath(full) != full or not os.path.isfile(full):
                continue
            digest = rest.partition(",")[0]
            key = digest[7:] if digest.startswith("sha256=") else None
            yield full, key if key and KEY.match(key) else None


def _place(data_or_path, target, made, link=False):
    """Put a pyc at ``target``: a hard link to a store entry when ``link`` (the store is on the
    same filesystem; pycs are replaced, never written in place, so sharing the inode is safe),
    else a copy. A build is published whole (image commit, ready marker): no atomic rename needed."""
    directory = os.path.dirname(target)
    if directory not in made:
        os.makedirs(directory, exist_ok=True)
        made.add(directory)
    if link:
        try:
            os.link(data_or_path, target)
            return
        except FileExistsError:
            os.unlink(target)
            os.link(data_or_path, target)
            return
    if not isinstance(data_or_path, bytes):
        with open(data_or_path, "rb") as stored:
            data_or_path = stored.read()
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(descriptor, data_or_path)
    finally:
        os.close(descriptor)


def _compile_chunk(paths):
    made, compiled = set(), 0
    for source_path in paths:
        try:
            with open(source_path, "rb") as handle:
                data = bytecode(handle.read(), source_path)
            if data is not None:
                _place(data, importlib.util.cache_from_source(source_path), made)
                compiled += 1
        except OSError:
            continue
    return compiled


def _same_device(a, b):
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False


def restore(store):
    started = time.monotonic()
    if sys.version_info < (3, 7):  # no hash-checked pycs before 3.7
        import compileall

        for site in _site_packages():
            compileall.compile_dir(site, quiet=2, workers=0)
        print("Bytecode: compiled (Python %d.%d has no hash-checked bytecode to reuse)" % sys.version_info[:2])
        return
    directory = store_dir(store) if store else None
    sources = [(path, key) for site in _site_packages() for path, key in _sources(site)]
    made, missing, restored = set(), [], 0
    link = bool(directory and sources) and _same_device(directory, sources[0][0])
    for source_path, key in sources:
        if directory and key:
            try:
                _place(entry_path(directory, key), importlib.util.cache_from_source(source_path), made, link)
                restored += 1
                continue
            except OSError:  # not in the store
                pass
        missing.append(source_path)
    if missing:
        print("Bytecode: compiling %d files" % len(missing), flush=True)
    chunks = [missing[i::(os.cpu_count() or 1) * 4] for i in range((os.cpu_count() or 1) * 4)]
    compiled = sum(_in_parallel(_compile_chunk, [chunk for chunk in chunks if chunk]))
    print("Bytecode: %d files, %d from the bytecode store, %d compiled (%.1f s)"
          % (len(sources), restored, compiled, time.monotonic() - started), flush=True)


def main(argv):
    if len(argv) >= 3 and argv[0] == "compile" and argv[1] == "--store":
        compile_wheels(argv[2], argv[3:])
        return 0
    if argv[:1] == ["restore"]:
        store = argv[2] if len(argv) >= 3 and argv[1] == "--store" else None
        restore(store if store and os.path.isdir(store) else None)
        return 0
    print(__doc__.split("\n\n")[3], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
