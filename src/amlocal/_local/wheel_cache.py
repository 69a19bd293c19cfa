"""The wheel cache, and what the local backends share to build environments: the user's pip settings, the key that
names a built environment, a host-side wheel cache, and a lock per environment being built.

pip's own HTTP cache keeps nothing behind some proxies, so wheels are downloaded once on the
host (with the user's pip configuration: index URLs, CA bundle) into a directory per Python
version, and installs read that directory with ``--no-index``.
"""

import configparser
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from .._config import cache_dir

BUILDER_VERSION = "3"  # 3: uv, hash-checked bytecode from the store


def _pip_config_files():
    """pip's configuration files, lowest precedence first (as pip reads them)."""
    home = Path.home()
    files = [Path("/etc/xdg/pip/pip.conf"), Path("/etc/pip.conf"), home / ".pip" / "pip.conf",
             Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "pip" / "pip.conf",
             Path(sys.prefix) / "pip.conf"]
    if os.environ.get("PIP_CONFIG_FILE"):
        files.append(Path(os.environ["PIP_CONFIG_FILE"]))
    return files


def pip_settings():
    """The user's pip settings that matter inside a build: index URLs, trusted hosts, CA bundle.
    Read from pip's configuration files, then overridden by PIP_* variables (as pip does).
    Parsed here rather than by running ``pip config`` so that a cache hit stays fast."""
    settings = {}
    for path in _pip_config_files():
        parser = configparser.RawConfigParser()
        try:
            parser.read(path)
        except (configparser.Error, OSError):
            continue
        for section in ("global", "download", "install"):
            if parser.has_section(section):
                settings.update(parser.items(section))
    for option in ("index-url", "extra-index-url", "trusted-host", "cert"):
        value = os.environ.get("PIP_" + option.upper().replace("-", "_"))
        if value:
            settings[option] = value
    return {
        "index_url": settings.get("index-url"),
        "extra_index_urls": settings.get("extra-index-url", "").split(),
        "trusted_hosts": settings.get("trusted-host", "").split(),
        "cert": settings.get("cert"),
    }


def remote_index_settings(settings):
    """The settings a container can use: http(s) indexes only (file:// paths are the host's)."""
    def remote(url):
        return url and url.startswith(("http://", "https://"))

    return {"index_url": settings["index_url"] if remote(settings["index_url"]) else None,
            "extra_index_urls": [u for u in settings["extra_index_urls"] if remote(u)],
            "trusted_hosts": settings["trusted_hosts"]}


def environment_key(environment, base_identity, settings):
    """A hash of everything that defines a built environment (an EnvironmentSpec on a base
    identified by ``base_identity``), and nothing that does not."""
    defining = {
        "builder": BUILDER_VERSION,
        "base": base_identity,
        "python_version": environment.python_version,
        "pip_packages": sorted(environment.pip_packages),
        "pip_options": sorted(environment.pip_options),
        "conda_packages": sorted(environment.conda_packages),
        "channels": list(environment.channels),
        "user_managed": bool(environment.user_managed),
        "indexes": remote_index_settings(settings),
    }
    return hashlib.sha256(json.dumps(defining, sort_keys=True).encode()).hexdigest()


@contextmanager
def build_lock(name):
    """Serialise builds of one environment across processes (other runs wait, then reuse it)."""
    directory = cache_dir() / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_in_progress(name):
    """Whether a process holds ``build_lock(name)`` now."""
    from .liveness import is_held

    return is_held(cache_dir() / "locks" / f"{name}.lock")


def mark_used(kind, key):
    """Record that the built environment ``key`` was used now (what ``amlocal gc`` keeps)."""
    marker = cache_dir() / "used" / kind / key
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:  # a read-only or full cache must not fail a run
        pass


def last_used(kind, key):
    """When ``mark_used(kind, key)`` last ran (epoch seconds), or None."""
    try:
        return (cache_dir() / "used" / kind / key).stat().st_mtime
    except OSError:
        return None


def wheel_dir(python_version):
    major_minor = ".".join(str(python_version).split(".")[:2])
    return cache_dir() / "wheels" / f"py{major_minor}"


def download_wheels(packages, pip_options, python_version, log, uv=None, should_stop=None):
    """Make sure the wheel cache holds wheels of ``packages`` (and their dependencies) for
    ``python_version``. Cheapest first: a manifest of the wheels this same request resolved to
    before (no pip at all); then a resolution from the cache alone (no network; by ``uv`` when
    given, in milliseconds, else by pip); else a download with the host's pip and the user's
    settings (killed when ``should_stop()`` turns true). Returns (directory, ok)."""
    target = wheel_dir(python_version)
    target.mkdir(parents=True, exist_ok=True)
    major_minor = ".".join(str(python_version).split(".")[:2])
    manifest = _manifest_path(packages, pip_options, python_version)
    base = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--progress-bar", "off",
            "--only-binary=:all:", "--python-version", major_minor, "--dest", str(target)]
    with build_lock(f"wheels-py{major_minor}"):
        if _manifest_complete(manifest, target):
            log.write(f"Wheels for {' '.join(packages)} (Python {major_minor}) are in the wheel cache {target}\n")
            return target, True
        found = _resolve_from_cache_with_uv(uv, packages, pip_options, major_minor, target) if uv else None
        if found:
            log.write(f"Wheels for {' '.join(packages)} (Python {major_minor}) resolved (uv) from the wheel cache "
                      f"{target}\n")
            _write_manifest(manifest, target, " ".join(found))
            return target, True
        cached = subprocess.run([*base, "--no-index", "--find-links", str(target), *packages], capture_output=True,
                                text=True, stdin=subprocess.DEVNULL)
        if cached.returncode == 0:
            log.write(f"Wheels for {' '.join(packages)} (Python {major_minor}) resolved from the wheel cache {target}\n")
            _write_manifest(manifest, target, cached.stdout)
            return target, True
        log.write(f"$ pip download --only-binary=:all: --python-version {major_minor} {' '.join(packages)}\n")
        output = []
        code = run_logged([*base, *split_pip_options(pip_options), *packages], _Tee(log, output),
                          should_stop=should_stop)
        if code == 0:
            # pip's output also names wheels it tried and dropped while backtracking: uv's
            # resolution, when there is uv, names exactly one wheel per package
            found = _resolve_from_cache_with_uv(uv, packages, pip_options, major_minor, target) if uv else None
            _write_manifest(manifest, target, " ".join(found) if found else "".join(output))
    return target, code == 0


def _resolve_from_cache_with_uv(uv, packages, pip_options, major_minor, directory):
    """The wheel files of ``directory`` that uv resolves ``packages`` to without an index, or
    None (no resolution, pip options uv may read differently, a pin without its file)."""
    if pip_options:
        return None
    ran = subprocess.run([uv, "pip", "compile", "-", "--python-version", major_minor, "--only-binary", ":all:",
                          "--no-index", "--find-links", str(directory), "--no-header", "--no-annotate", "--quiet"],
                         input="\n".join(packages) + "\n", capture_output=True, text=True,
                         env={**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1", "NO_COLOR": "1",
                              "UV_CACHE_DIR": str(cache_dir() / "uv")})
    if ran.returncode != 0:
        return None
    pins = {}
    for line in ran.stdout.splitlines():
        name, separator, version = line.split(";")[0].partition("==")
        if separator:
            pins[_normal_name(name.strip())] = version.strip()
    files = {}
    for wheel in directory.glob("*.whl"):
        parts = wheel.name.split("-")
        if len(parts) >= 5 and pins.get(_normal_name(parts[0])) == parts[1]:
            files.setdefault(_normal_name(parts[0]), []).append(wheel.name)
    if set(files) != set(pins):
        return None
    return sorted(name for names in files.values() for name in names)


def _normal_name(name):
    return "".join("-" if c in "-_." else c for c in name.lower())


def _manifest_path(packages, pip_options, python_version):
    major_minor = ".".join(str(python_version).split(".")[:2])
    request = json.dumps([sorted(packages), list(pip_options or []), major_minor])
    return wheel_dir(python_version) / "resolved" / f"{hashlib.sha256(request.encode()).hexdigest()[:24]}.json"


def resolved_wheels(packages, pip_options, python_version):
    """The wheel files ``download_wheels`` last resolved this request to ([] when unknown)."""
    directory = wheel_dir(python_version)
    try:
        names = json.loads(_manifest_path(packages, pip_options, python_version).read_text())
    except (OSError, ValueError):
        return []
    return [directory / name for name in names if "/" not in name and (directory / name).is_file()]


class _Tee:
    def __init__(self, log, lines):
        self.log, self.lines = log, lines

    def write(self, text):
        self.log.write(text)
        self.lines.append(text)


def _wheels_named_in(pip_output, directory):
    """The wheel files of ``directory`` that pip's download output names (saved or already there)."""
    return sorted({word.rsplit("/", 1)[-1] for word in pip_output.split()
                   if word.endswith(".whl") and (directory / word.rsplit("/", 1)[-1]).is_file()})


def _write_manifest(manifest, directory, pip_output):
    wheels = _wheels_named_in(pip_output, directory)
    if wheels:
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps(wheels))


def _manifest_complete(manifest, directory):
    try:
        wheels = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return False
    names = [_normal_name(name.split("-")[0]) for name in wheels]
    return bool(wheels) and len(set(names)) == len(names) and all((directory / name).is_file() for name in wheels)


def split_pip_options(pip_options):
    return [part for option in pip_options or [] for part in option.split()]


def run_logged(command, log, env=None, should_stop=None):
    """Run ``command`` with its output appended to ``log`` as it comes; returns the exit code.
    When ``should_stop()`` turns true the command (and what it started) is killed."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                               stdin=subprocess.DEVNULL, start_new_session=should_stop is not None)
    done = threading.Event()
    if should_stop is not None:
        threading.Thread(target=_kill_when, args=(should_stop, process, done), daemon=True).start()
    try:
        for line in iter(process.stdout.readline, b""):
            log.write(line.decode("utf-8", "replace"))
        return process.wait()
    finally:
        done.set()


def _kill_when(should_stop, process, done):
    while not done.wait(0.2):
        if should_stop():
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            return


def ready_marker(path):
    return Path(path) / ".amlocal-ready"
