"""How local backends install an environment's packages: one plan, run on the host or in a build container.

The plan is made on the host: which interpreter (``python_versions``), which packages (moved to
releases with wheels when the interpreter is not the asked one), their wheels in the host wheel
cache (``wheel_cache``), their bytecode in the bytecode store (``bytecode``). Its steps then run
where the environment lives, with that place's paths:

1. a virtualenv without pip: ``uv venv`` (milliseconds) or ``python -m venv --without-pip``;
2. the packages: ``uv pip install`` or ``pip install``, both ``--no-index`` from the wheel cache
   when it holds every wheel, else from the user's indexes (URLs, trusted hosts, CA bundle);
3. bytecode: in a build container, one ``tar -x`` of the set's pycs made from the store
   (``bytecode_bundle``; the install is pinned to the wheels the tar was made from); elsewhere
   ``bytecode.py restore`` links or copies each file's pyc from the store, compiling the rest.

uv is optional (``pip install amlocal[uv]``). It installs in ~1 s what pip installs in 4-8 s on
two cores, and it finds the nearest releases with wheels when an environment asks for a Python
the build does not have. Without it (or with AMLOCAL_NO_UV=1) the same plan runs with pip.
Installing never compiles bytecode itself (``--no-compile``): step 3 does, reusing what any
earlier build compiled, which is what makes a build with a warm wheel cache fast.
"""

import hashlib
import json
import os
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .._config import cache_dir
from . import bytecode
from .python_versions import Adaptation, adapt_packages
from .wheel_cache import build_lock, download_wheels, resolved_wheels, run_logged, split_pip_options

NO_UV_VARIABLE = "AMLOCAL_NO_UV"
BYTECODE_SCRIPT = Path(__file__).resolve().with_name("bytecode.py")


def find_uv():
    """The uv executable: the ``uv`` package's, else one on PATH; None when there is none or
    AMLOCAL_NO_UV is set."""
    if os.environ.get(NO_UV_VARIABLE, "").lower() in ("1", "true", "yes"):
        return None
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")



def bytecode_store():
    return cache_dir() / "bytecode"


@dataclass(frozen=True)
class PackagePlan:
    """What a build installs, decided on the host: ``packages`` (as asked, or moved to releases
    with wheels, see ``moves``), whether the wheel cache holds all their wheels (``offline``),
    the installer, and whether the bytecode store holds their bytecode."""

    packages: tuple
    pip_options: tuple
    wheels: Path
    offline: bool
    installer: str
    uv: str = None
    moves: tuple = ()
    bytecode_stored: bool = False
    wheel_files: tuple = ()


def plan_packages(packages, pip_options, python, cache_tag, adapt, index, log, uv=None, should_stop=None):
    """Plan installing ``packages`` for the interpreter ``python`` (its version) whose bytecode
    is ``cache_tag`` ("cpython-311"). ``adapt``: the interpreter is not the asked one, so move
    packages without wheels for it (needs uv). ``index``: the user's pip settings. Its long
    steps (downloads, compiling the bytecode store) end early when ``should_stop()`` turns true."""
    adaptation = adapt_packages(packages, python, uv, index, log) if adapt else Adaptation(tuple(packages))
    wheels, offline = download_wheels(list(adaptation.packages), list(pip_options), python, log, uv=uv,
                                      should_stop=should_stop)
    stored, wheel_files = False, ()
    if offline:
        wheel_files = tuple(resolved_wheels(list(adaptation.packages), list(pip_options), python))
        stored = fill_bytecode_store(wheel_files, cache_tag, log, should_stop)
    # From the index, pip installs: uv ignores the upper bounds of Requires-Python, so it would
    # install a release pip (and Azure ML's image build) refuses for this Python. From the wheel
    # cache, uv only sees the wheels pip's download chose for this Python.
    installer = "uv" if uv and offline else "pip"
    if uv and installer == "pip":
        log.write("Not every package has a wheel in the cache: installing with pip from the package index\n")
    return PackagePlan(tuple(adaptation.packages), tuple(pip_options), wheels, offline, installer, uv,
                       adaptation.moves, stored, wheel_files)


def fill_bytecode_store(wheels, cache_tag, log, should_stop=None):
    """Compile the bytecode of ``wheels`` into the store with this interpreter, when it makes
    ``cache_tag``'s bytecode (a build for another Python compiles its own). True when stored."""
    if not wheels or cache_tag != sys.implementation.cache_tag:
        return False
    directory = bytecode.store_dir(str(bytecode_store()))
    if all(os.path.exists(bytecode.done_marker(directory, str(wheel))) for wheel in wheels):
        log.write(f"Bytecode store: holds the bytecode of all {len(wheels)} wheels\n")
        return True  # known without starting a process
    with build_lock(f"bytecode-{cache_tag}"):  # builds at once (a sweep's) compile each file once
        code = run_logged([sys.executable, "-I", "-B", str(BYTECODE_SCRIPT), "compile", "--store",
                           str(bytecode_store()), *map(str, wheels)], log, should_stop=should_stop)
    return code == 0


def bytecode_bundle(plan, log):
    """(bytecode tar, constraints file) for a build container installing ``plan``, or
    (None, None) when its bytecode is not in the store. The tar holds every pyc at its path under
    site-packages; the constraints pin the install to the wheels that tar was made from. Both are
    kept per set of wheels, so the next build of that set finds them ready."""
    names = [w.name.split("-")[0].lower().replace("_", "-") for w in plan.wheel_files]
    if not (plan.bytecode_stored and plan.wheel_files) or len(set(names)) != len(names):
        return None, None  # two versions of a package: no pins to make; restore finds each file's bytecode
    identity = json.dumps(sorted((w.name, w.stat().st_size, w.stat().st_mtime_ns) for w in plan.wheel_files))
    stem = bytecode_store() / "bundles" / hashlib.sha256(identity.encode()).hexdigest()[:24]
    tar, constraints = stem.with_suffix(".tar"), stem.with_suffix(".constraints.txt")
    if tar.exists() and constraints.exists():
        for path in (tar, constraints):  # their modification time is when a build last used them (amlocal gc)
            try:
                os.utime(path)
            except OSError:
                pass
    else:
        started = time.monotonic()
        bytecode.bundle(str(bytecode_store()), [str(w) for w in plan.wheel_files], str(tar))
        pins = sorted({"==".join(w.name.split("-")[:2]) for w in plan.wheel_files})
        constraints.write_text("\n".join(pins) + "\n")
        log.write(f"Bytecode bundle of {len(plan.wheel_files)} wheels made ({time.monotonic() - started:.1f} s)\n")
    return tar, constraints


@dataclass(frozen=True)
class Step:
    """One command of an install, and the progress line written before it."""

    announce: str
    argv: tuple


@dataclass(frozen=True)
class Place:
    """Where an install runs: the paths of what it needs there, and how to run pip there.
    ``index`` holds the index settings valid there (None: pip's own configuration)."""

    venv_python: str
    prefix: str
    wheels: str
    bytecode_script: str
    uv: str = None
    bytecode_store: str = None
    cert: str = None
    index: dict = None
    pip: tuple = ("python3", "-m", "pip")
    uv_cache: str = None
    #: a uv cache for this install alone, removed after it: on the prefix's filesystem, so uv
    #: hard-links the unpacked wheels instead of copying them
    scratch_cache: str = None
    system_site_packages: bool = False
    environment: dict = field(default_factory=dict)
    #: a bytecode bundle (``bytecode_bundle``) and where to unpack it, with the constraints it needs
    bytecode_bundle: str = None
    site_packages: str = None
    constraints: str = None


def install_steps(plan, place, installer=None):
    """The commands installing ``plan`` at ``place`` with ``installer`` (the plan's by default),
    and the environment variables they need."""
    installer = installer or plan.installer
    python = f"{place.prefix}/bin/python"
    site = ["--system-site-packages"] if place.system_site_packages else []
    packages = list(plan.packages)
    environment = {}
    if installer == "uv":
        environment.update(UV_PYTHON_DOWNLOADS="never", UV_NO_CONFIG="1", NO_COLOR="1", UV_NO_PROGRESS="1")
        if place.uv_cache:
            environment["UV_CACHE_DIR"] = place.uv_cache
        steps = [Step(f"Creating the virtual environment {place.prefix} (uv venv)",
                      (place.uv, "venv", "--quiet", "--python", place.venv_python, *site, place.prefix))]
        install = [place.uv, "pip", "install", "--python", python, "--no-compile"]
        if place.constraints:
            install += ["--constraint", place.constraints]
        if not (place.uv_cache or place.scratch_cache):
            install.append("--no-cache")
        if not plan.offline:
            raise ValueError("uv installs only from the wheel cache (plan_packages gives an index install to pip)")
        install += ["--no-index", "--find-links", place.wheels, *packages]
        if place.scratch_cache:
            scratch = shlex.quote(place.scratch_cache)
            install = ["sh", "-c", f"UV_CACHE_DIR={scratch} {shlex.join(install)}; code=$?; rm -rf {scratch}; "
                                   "exit $code"]
        steps.append(Step(_installing(packages, plan.offline, "uv"), tuple(install)))
    else:
        steps = [Step(f"Creating the virtual environment {place.prefix} (python -m venv)",
                      (place.venv_python, "-m", "venv", "--without-pip", *site, place.prefix))]
        install = [*place.pip, "--python", python, "install", "--no-cache-dir", "--no-compile",
                   "--disable-pip-version-check", "--progress-bar", "off"]
        if place.constraints:
            install += ["--constraint", place.constraints]
        if plan.offline:
            install += ["--no-index", "--find-links", place.wheels]
        else:
            install += ["--find-links", place.wheels, *split_pip_options(plan.pip_options)]
            environment.update(pip_environment(place.index, place.cert))
        steps.append(Step(_installing(packages, plan.offline, "pip"), (*install, *packages)))
    if packages and place.bytecode_bundle:
        restore = shlex.join([python, "-I", "-B", place.bytecode_script, "restore", "--store", place.bytecode_store])
        steps.append(Step("Bytecode: from the bytecode store (one tar)",
                          ("sh", "-c", f"tar -x -f {shlex.quote(place.bytecode_bundle)} -C "
                                       f"{shlex.quote(place.site_packages)} || {restore}")))
    elif packages:
        restore = [python, "-I", "-B", place.bytecode_script, "restore"]
        if place.bytecode_store:
            restore += ["--store", place.bytecode_store]
        announce = "Bytecode: from the bytecode store, compiling what it lacks" if place.bytecode_store else \
            "Bytecode: compiling (no bytecode store for this Python here)"
        steps.append(Step(announce, tuple(restore)))
    else:
        steps = steps[:1]
    return steps, environment


def _installing(packages, offline, installer):
    source = "from the wheel cache (no index)" if offline else "from the package index"
    return f"Installing {' '.join(packages)} with {installer} {source}"


def pip_environment(index, cert):
    """PIP_* variables carrying index settings (None: pip's own configuration) and a CA bundle."""
    environment = {}
    if index:
        if index.get("index_url"):
            environment["PIP_INDEX_URL"] = index["index_url"]
        if index.get("extra_index_urls"):
            environment["PIP_EXTRA_INDEX_URL"] = " ".join(index["extra_index_urls"])
        if index.get("trusted_hosts"):
            environment["PIP_TRUSTED_HOST"] = " ".join(index["trusted_hosts"])
    if cert:
        environment["PIP_CERT"] = cert
    return environment


def failure_advice(plan, choice):
    """What to tell a user whose install failed, beyond the log."""
    if choice is None or choice.matches:
        return ""
    wanted = choice.requested
    if plan.installer != "uv" and not plan.uv:
        return (f" The environment asks for Python {wanted} and the build has Python {choice.interpreter.version}: "
                "a package pinned for the older Python may have no wheel for this one. Install uv (pip install "
                "'amlocal[uv]') so builds move such packages to their nearest release with a wheel, or use a base "
                f"image with Python {wanted}.")
    return (f" The environment asks for Python {wanted} and the build has Python {choice.interpreter.version}; "
            "see the build log for the packages that have no wheel for it.")


def bundle_garbage(older_than, now):
    """The bytecode bundles no build used for ``older_than`` seconds (``amlocal gc --images``):
    a later build of the same wheels makes its bundle again from the store."""
    from .gc import Item

    folder = bytecode_store() / "bundles"
    items = []
    for tar in sorted(folder.glob("*.tar")) if folder.is_dir() else []:
        constraints = tar.with_suffix(".constraints.txt")
        try:
            info = tar.lstat()
        except OSError:
            continue
        if now - info.st_mtime > older_than:
            items.append(Item("bytecode bundle", str(tar), info.st_size,
                              lambda paths=(tar, constraints): [path.unlink(missing_ok=True) for path in paths]))
    return items
