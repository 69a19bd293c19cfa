"""Which Python an environment is built with, and its packages when that is not the Python it asked for.

An environment names a Python version (``python_version``: curated environments pin 3.10, 3.9,
3.8...). A local build needs that interpreter where the environment runs: in the base image
(docker) or on the host (process). Nothing downloads interpreters here (uv's managed Pythons
come from GitHub, which is not reachable; PyPI ships none), so:

1. When an interpreter with the asked major.minor is there (``python3.10`` in the base image; on
   the host, on PATH, under pyenv or uv's managed Pythons), the build uses it.
2. Otherwise the build uses the default interpreter (the base image's ``python3``, the host's),
   says so in the build log and in the run's warnings, and keeps every package as asked except
   those with no wheel for that Python: each of those moves to its nearest release that has one
   (same major version, the first minor line with a wheel, its newest patch), and the warnings
   list each move. Pins made for an old Python often have no wheel for a newer one
   (numpy~=1.22.0 stops at CPython 3.10), and building them from source needs compilers and the
   network. Finding those releases needs uv; without it the build keeps the pins (and fails if
   one has no wheel, naming the fix).

A move is decided once per (packages, Python) and kept in the wheel cache, so later builds,
offline ones included, install the same versions without asking an index.
"""

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

from .._config import cache_dir

REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?P<extras>\[[^\]]*\])?\s*"
                         r"(?P<specifier>[^;]*?)\s*(?P<marker>;.*)?$")
LOWER_BOUND = re.compile(r"(~=|===|==|>=|>)\s*([0-9][0-9A-Za-z.*+!-]*)")
RELEASE = re.compile(r"^(\d+)(?:\.(\d+))?")
RULE_VERSION = 1  # of the rule that moves packages: kept decisions of another rule are made again


def major_minor(version):
    """"3.10" of "3.10.13" (or of "3.10")."""
    return ".".join(str(version).split(".")[:2]) if version else None


def same_python(requested, actual):
    return not requested or major_minor(requested) == major_minor(actual)


@dataclass(frozen=True)
class Interpreter:
    """An interpreter a build can use: its full version and how to run it there."""

    version: str
    path: str


@dataclass(frozen=True)
class PythonChoice:
    """The interpreter chosen for an environment, and the note to show when it is not the asked one."""

    interpreter: Interpreter
    requested: str = None
    note: str = None

    @property
    def matches(self):
        return self.note is None


def choose(requested, default, others, where):
    """The interpreter for an environment asking for ``requested``: one of ``others``
    ({major.minor: Interpreter}) or ``default`` with the asked major.minor, else ``default``
    with a note saying so (``where`` names the place: "base image amlocal-base:bookworm")."""
    if same_python(requested, default.version):
        return PythonChoice(default, requested)
    found = others.get(major_minor(requested))
    if found is not None:
        return PythonChoice(found, requested)
    note = (f"The environment asks for Python {requested}; {where} has no Python {major_minor(requested)}, so it is "
            f"built with Python {default.version}. Packages are installed as asked, except any with no wheel for "
            f"Python {major_minor(default.version)}, which move to their nearest release that has one (listed "
            f"below). For Python {major_minor(requested)} itself, use a base image that has it (env.docker."
            "base_image, \"base_image\" in config.json, or AMLOCAL_BASE_IMAGE) or, for the process backend, "
            f"install python{major_minor(requested)} on this machine.")
    return PythonChoice(default, requested, note)


# -- interpreters on this machine ----------------------------------------------------------------

_found = {}


def host_interpreter(version, uv=None):
    """An interpreter of this machine with major.minor ``version`` (PATH, pyenv's versions, uv's
    managed Pythons), checked by running it; None when there is none. Remembered per process."""
    wanted = major_minor(version)
    if wanted in _found:
        return _found[wanted]
    candidates = [shutil.which(f"python{wanted}")]
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates += sorted(glob.glob(os.path.join(root, "versions", f"{wanted}.*", "bin", f"python{wanted}")),
                         reverse=True)
    if uv:
        found = subprocess.run([uv, "python", "find", "--no-config", wanted], capture_output=True, text=True,
                               stdin=subprocess.DEVNULL, env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"})
        candidates.append(found.stdout.strip() if found.returncode == 0 else None)
    for path in filter(None, candidates):
        actual = _version_of(path)
        if actual and major_minor(actual) == wanted:
            _found[wanted] = Interpreter(actual, path)
            return _found[wanted]
    _found[wanted] = None
    return None


def _version_of(path):
    try:
        ran = subprocess.run([path, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"], capture_output=True,
                             text=True, stdin=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return ran.stdout.strip() if ran.returncode == 0 else None


def this_interpreter():
    return Interpreter("%d.%d.%d" % sys.version_info[:3], sys.executable)


# -- packages for another Python -----------------------------------------------------------------

@dataclass(frozen=True)
class Adaptation:
    """The packages to install for ``python`` (major.minor), and a line per package that moved."""

    packages: tuple
    moves: tuple = ()


def adapt_packages(packages, python, uv, index, log):
    """``packages`` as asked, each with no wheel for ``python`` moved to its nearest release that
    has one (see the module docstring). ``index`` holds the user's index settings (pip_settings).
    Decided once and kept in the wheel cache. Without uv: the packages unchanged."""
    python = major_minor(python)
    record = _record_path(packages, python)
    try:
        kept = json.loads(record.read_text())
        return Adaptation(tuple(kept["packages"]), tuple(kept["moves"]))
    except (OSError, ValueError, KeyError):
        pass
    if not uv or not packages:
        return Adaptation(tuple(packages))
    resolver = _Resolver(uv, python, index)
    if resolver.versions(packages) is not None:
        adaptation = Adaptation(tuple(packages))
    else:
        log.write(f"Finding the nearest releases with wheels for Python {python} ...\n")
        adapted, moves = [], []
        for requirement in packages:
            moved = _nearest(requirement, resolver)
            adapted.append(moved or requirement)
            if moved:
                moves.append(f"{requirement.strip()} -> {moved.strip()} (no release matching {requirement.strip()} "
                             f"has a wheel for Python {python})")
                log.write(f"  {moves[-1]}\n")
        adaptation = Adaptation(tuple(adapted), tuple(moves))
        if resolver.offline_only:  # decided from the wheel cache alone: decide again when the index answers
            return adaptation
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"packages": list(adaptation.packages), "moves": list(adaptation.moves)}))
    return adaptation


def _record_path(packages, python):
    request = json.dumps([RULE_VERSION, sorted(packages), python])
    name = hashlib.sha256(request.encode()).hexdigest()[:24]
    return cache_dir() / "wheels" / f"py{python}" / "adapted" / f"{name}.json"


def _nearest(requirement, resolver):
    """``requirement`` pinned to the nearest release with a wheel, or None when it has one
    already, names no lower bound, or nothing of its major version has a wheel."""
    if resolver.versions([requirement]) is not None:
        return None
    parts = REQUIREMENT.match(requirement)
    if not parts:
        return None
    floors = [_release(v.rstrip(".*")) for _, v in LOWER_BOUND.findall(parts["specifier"])]
    floors = [f for f in floors if f]
    if not floors:
        return None
    floor = max(floors)
    name, extras, marker = parts["name"], parts["extras"] or "", parts["marker"] or ""
    lowest = resolver.versions([f"{name}{extras}>={floor[0]}.{floor[1]},<{floor[0] + 1}"], lowest=True)
    first = _release(lowest.get(_normal(name), "")) if lowest else None
    if not first:
        return None
    newest = resolver.versions([f"{name}{extras}>={first[0]}.{first[1]},<{first[0]}.{first[1] + 1}"])
    version = newest.get(_normal(name)) if newest else None
    return f"{name}{extras}=={version}{marker}" if version else None


def _release(version):
    match = RELEASE.match(version or "")
    return (int(match[1]), int(match[2] or 0)) if match else None


def _normal(name):
    return re.sub(r"[-_.]+", "-", name).lower()


class _Resolver:
    """Asks uv which versions of some requirements have wheels for a Python version: the index
    (with the user's settings) and the wheel cache, or the wheel cache alone when the index
    cannot be reached."""

    def __init__(self, uv, python, index):
        self.uv, self.python, self.index = uv, python, index
        self.wheels = cache_dir() / "wheels" / f"py{python}"
        self.wheels.mkdir(parents=True, exist_ok=True)
        self._unreachable = False
        self.offline_only = False

    def versions(self, requirements, lowest=False):
        """{normalized name: version} of a resolution without dependencies, or None."""
        command = [self.uv, "pip", "compile", "-", "--python-version", self.python, "--only-binary", ":all:",
                   "--no-deps", "--no-header", "--no-annotate", "--quiet", "--find-links", str(self.wheels)]
        if lowest:
            command += ["--resolution", "lowest"]
        if not self.offline_only:
            found = self._run(command + index_arguments(self.index), requirements)
            if found is not None or not self._unreachable:
                return found
            self.offline_only = True
        return self._run(command + ["--no-index"], requirements)

    def _run(self, command, requirements):
        ran = subprocess.run(command, input="\n".join(requirements) + "\n", capture_output=True, text=True,
                             env=uv_environment(self.index.get("cert"), cache_dir() / "uv"))
        self._unreachable = ran.returncode != 0 and bool(re.search(
            r"(?i)(connect|network|dns|timed out|offline|failed to fetch)", ran.stderr))
        if ran.returncode != 0:
            return None
        pins = (line.split("==", 1) for line in ran.stdout.splitlines() if "==" in line)
        return {_normal(name.strip()): version.split(";")[0].strip() for name, version in pins}


def index_arguments(index):
    """uv's arguments for the user's pip index settings (``pip_settings()`` or its remote part).
    uv takes a package from the first index that has it; pip takes the best version across all,
    and these are pip's settings, so pip's way it is."""
    arguments = ["--index-strategy", "unsafe-best-match"]
    if index.get("index_url"):
        arguments += ["--index-url", index["index_url"]]
    for url in index.get("extra_index_urls") or []:
        arguments += ["--extra-index-url", url]
    for host in index.get("trusted_hosts") or []:
        arguments += ["--allow-insecure-host", host]
    return arguments


def uv_environment(cert=None, cache=None):
    """The environment uv runs with: no interpreter downloads, no uv.toml of the place it runs
    in, plain output; the CA bundle when the user's pip has one."""
    environment = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1", "NO_COLOR": "1",
                   "UV_NO_PROGRESS": "1"}
    if cert:
        environment["SSL_CERT_FILE"] = cert
    if cache:
        environment["UV_CACHE_DIR"] = str(cache)
    return environment
