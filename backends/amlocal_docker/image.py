"""``EnvironmentImage``: what a run's environment needs in Docker, built once and reused.

An environment of pip packages is a virtualenv at /opt/amlocal-env, built in a container from
the base image into a host directory (``environments_root()/<key>``), then mounted read-only at
the same path in every container of that environment, on top of the base image. The key hashes
what defines the environment (base image id, Python and pip packages, pip options, package
indexes). Nothing is committed: a build costs its install and nothing more, and the directory
appears (one rename) only once the install has succeeded, with its metadata
(``<key>.json``: Python, warnings) written just before. The build container writes as the
host's user (whose cache it is), with every capability dropped and no new privileges, and that
directory is the only writable host path it sees.

An environment with conda packages changes the base image's own conda, so it is built in a
container and committed as the image ``amlocal/env:<key>``.

Either way a build plans on the host (``amlocal.local.plan_packages``: the interpreter, the
packages, their wheels in the host wheel cache, their bytecode in the bytecode store), then
starts a container from the base image with those mounted read-only, and the host's uv binary
when there is one. In it: the virtualenv (``uv venv``), the packages (``uv pip install
--no-index`` from the wheels, or from the user's indexes with their URLs, trusted hosts and CA
bundle), the bytecode (one tar made from the store, or compiled where the store has none). An
install from the wheel cache alone runs without a network. When uv is missing on the host, or
its binary cannot run in the image (another C library or architecture), the same steps run with
the image's own pip, slower.

An environment asking for a Python the base image lacks is built with the base image's Python,
and its packages are moved to releases with wheels for it (``amlocal.local.choose_python``); the
build log says so, and so does every run of the environment (``prepared["warnings"]``). Build
containers carry the labels of the workspace that asked for the build, so cleaning up after a
crash finds them.

``prepare`` returns plain data a container is made from: {"image", "python"}, for a built
environment its "key", and for a mounted one "mounts" (Docker API mounts) and "env" (PATH and
VIRTUAL_ENV); ``container_config`` merges them into a container's configuration.
"""

import json
import os
import shlex
import shutil
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from amlocal.exceptions import BackendUnavailableError, EnvironmentBuildError
from amlocal.local import (BYTECODE_SCRIPT, GarbageItem, Interpreter, Place, PreparationCanceled, build_in_progress,
                           build_lock, bytecode_bundle, bytecode_store, cache_dir, choose_python, environment_key,
                           failure_advice, find_uv, install_steps, last_used, mark_used, pip_settings, plan_packages,
                           remote_index_settings, size_of)

from .engine import EngineError

ENV_PREFIX = "/opt/amlocal-env"
REPOSITORY = "amlocal/env"
ENVIRONMENTS_DIR = "docker-environments"
BUILDING_PREFIX = ".building-"
BUILD_LABEL = "amlocal.build"
WARNINGS_LABEL = "amlocal.warnings"
BUILD_DIR = "/amlocal-build"
WHEELS_IN_BUILD = f"{BUILD_DIR}/wheels"
CA_IN_BUILD = f"{BUILD_DIR}/ca.crt"
UV_IN_BUILD = f"{BUILD_DIR}/uv"
STORE_IN_BUILD = f"{BUILD_DIR}/bytecode-store"
SCRIPT_IN_BUILD = f"{BUILD_DIR}/bytecode.py"
BUNDLE_IN_BUILD = f"{BUILD_DIR}/bytecode.tar"
CONSTRAINTS_IN_BUILD = f"{BUILD_DIR}/constraints.txt"
PROBE_VERSION = 2
PROBE = ("import sys, shutil; print('%d.%d.%d' % sys.version_info[:3]); "
         "print('conda' if shutil.which('conda') else ''); print(sys.implementation.cache_tag or ''); "
         "print(' '.join(v for v in ('3.%d' % m for m in range(6, 30)) if shutil.which('python' + v)))")


class EnvironmentImage:
    """Finds or builds the image of one EnvironmentSpec (its base image resolved)."""

    def __init__(self, environment, api, labels=None):
        self.environment = environment
        self.base = environment.base_image
        self.api = api
        self.labels = dict(labels or {})

    def prepare(self, log, should_stop=lambda: False):
        """Return {"image", "python"} for launching, with "mounts" and "env" for a mounted
        environment, and "warnings" when it is not quite the environment asked for (another
        Python); builds on a cache miss. Logs only on a build."""
        base = self._base_image(log)
        if self.environment.user_managed or not self.environment.has_packages:
            return {"image": self.base, "python": "python3"}
        settings = pip_settings()
        key = environment_key(self.environment, base["Id"], settings)[:20]
        mounted = not self.environment.conda_packages
        find = (lambda: read_environment(key)) if mounted else (lambda: self.api.inspect_image(f"{REPOSITORY}:{key}"))
        found = find()
        if found is None:
            with build_lock(f"image-{key}"):
                found = find()  # another run may have built it while this one waited
                if found is None:
                    self._build(base, key, settings, log, should_stop, mounted)
                    found = find() or {}
        mark_used("image", key)
        return self._mounted(base, key, found) if mounted else self._committed(key, found)

    def _mounted(self, base, key, metadata):
        """What a container of the mounted environment ``key`` (``metadata``: read_environment's) needs."""
        prepared = {"image": base["Id"], "python": f"{ENV_PREFIX}/bin/python", "key": key,
                    "mounts": [{"Type": "bind", "Source": str(environments_root() / key), "Target": ENV_PREFIX,
                                "ReadOnly": True}],
                    "env": {"PATH": f"{ENV_PREFIX}/bin:{_image_path(base)}", "VIRTUAL_ENV": ENV_PREFIX}}
        if metadata.get("warnings"):
            prepared["warnings"] = metadata["warnings"]
        return prepared

    def _committed(self, key, image):
        """What a container of the committed environment image ``key`` (``image``: its inspect) needs."""
        prepared = {"image": f"{REPOSITORY}:{key}", "python": f"{ENV_PREFIX}/bin/python", "key": key}
        warnings = _warnings_of(image)
        if warnings:
            prepared["warnings"] = warnings
        return prepared

    def _base_image(self, log):
        found = self.api.inspect_image(self.base)
        if found:
            return found
        log.write(f"Base image {self.base} is not on this machine; pulling it\n")
        try:
            self.api.pull(self.base, log)
            return self.api.inspect_image(self.base)
        except EngineError as err:
            raise EnvironmentBuildError(
                f"Base image {self.base!r} is not on this machine and could not be pulled ({err.message}). Load or "
                "build it (docker pull / docker import), or choose an image you have: env.docker.base_image, "
                "\"base_image\" in config.json, or AMLOCAL_BASE_IMAGE.") from err

    def _probe(self, base):
        """What the base image offers a build, cached by image id: {"python": its python3's
        version, "conda": bool, "cache_tag": python3's bytecode tag, "pythons": ["3.10", ...]
        (the pythonX.Y commands on its PATH)}."""
        path = cache_dir() / "images" / f"{base['Id'].replace(':', '_')}.json"
        try:
            found = json.loads(path.read_text())
            if found.get("probe") == PROBE_VERSION:
                return found
        except (OSError, ValueError):
            pass
        container = self.api.create_container({"Image": base["Id"], "Cmd": ["python3", "-c", PROBE],
                                               "Labels": self._labels("probe"), "HostConfig": {"NetworkMode": "none"}})
        try:
            self.api.start(container)
            code = self.api.wait(container).get("StatusCode", 1)
            output = b"".join(self.api.logs(container, follow=False)).decode("utf-8", "replace")
        finally:
            _remove_quietly(self.api, container)
        if code != 0:
            raise EnvironmentBuildError(f"Base image {self.base!r} cannot run python3 (exit code {code}): {output[-500:]}"
                                        " A base image needs python3 with the venv and pip modules.")
        lines = output.splitlines() + ["", "", "", ""]
        found = {"probe": PROBE_VERSION, "python": lines[0].strip(), "conda": lines[1].strip() == "conda",
                 "cache_tag": lines[2].strip(), "pythons": lines[3].split()}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(found))
        return found

    def _labels(self, key):
        return {BUILD_LABEL: key, **self.labels}

    def _choose_python(self, probe):
        default = Interpreter(probe["python"], "python3")
        others = {v: Interpreter(v, f"python{v}") for v in probe["pythons"]}
        return choose_python(self.environment.python_version, default, others, f"base image {self.base}")

    def _build(self, base, key, settings, log, should_stop, mounted):
        started = time.monotonic()
        log.write(f"Building environment {key} from {self.base}" +
                  (f" (the image {REPOSITORY}:{key})" if not mounted else "") + "\n")
        probe = self._probe(base)
        conda_packages = list(self.environment.conda_packages)
        if conda_packages and not probe["conda"]:
            raise EnvironmentBuildError(
                f"The environment asks for conda packages ({', '.join(conda_packages)}) but base image {self.base!r} "
                "has no conda. Use pip packages instead, or a base image with conda.")
        choice = self._choose_python(probe)
        if choice.note:
            log.write(f"Note: {choice.note}\n")
        python = choice.interpreter
        cache_tag = probe["cache_tag"] if python.path == "python3" else "cpython-" + python.version.replace(".", "")[:4]
        uv = find_uv()
        plan = plan_packages(list(self.environment.pip_packages), list(self.environment.pip_options), python.version,
                             cache_tag, adapt=not choice.matches, index=settings, log=log, uv=uv,
                             should_stop=should_stop)
        if should_stop():
            raise PreparationCanceled()
        warnings = [w for w in (choice.note, *plan.moves) if w]
        tar, constraints = bytecode_bundle(plan, log)
        site = f"{ENV_PREFIX}/lib/python{'.'.join(python.version.split('.')[:2])}/site-packages"
        command, environment, mounts = self._build_command(plan, python.path, conda_packages, probe["conda"], settings,
                                                           (tar, constraints, site) if tar else None, mounted)
        host_config = {  # bind mounts, not volumes: volumes would be recorded in the committed image
            "Mounts": [{"Type": "bind", "Source": host, "Target": target, "ReadOnly": True}
                       for host, target in mounts.items()]}
        if plan.offline and not conda_packages:
            host_config["NetworkMode"] = "none"  # everything comes from the mounts
        config = {"Image": base["Id"], "Cmd": ["sh", "-c", command], "Labels": self._labels(key),
                  "Env": [f"{k}={v}" for k, v in environment.items()], "HostConfig": host_config}
        building = _building_directory(key) if mounted else None
        if building:  # the only writable host path it sees; it writes as the host's user, without capabilities
            uid, gid = os.getuid(), os.getgid()
            host_config["Mounts"].append({"Type": "bind", "Source": str(building), "Target": ENV_PREFIX,
                                          "ReadOnly": False})
            host_config.update(CapDrop=["ALL"], SecurityOpt=["no-new-privileges:true"])
            config.update(User=f"{uid}:{gid}", Env=config["Env"] + ["HOME=/tmp"])
        container = None
        try:
            container = self.api.create_container(config)
            self._run_build(container, plan, python, choice, conda_packages, log, should_stop)
            if building:
                _publish(building, key, {"python": python.version, "base_image": self.base, "warnings": warnings})
            else:
                log.write(f"Saving the environment as image {REPOSITORY}:{key} (docker commit)\n")
                self._commit(container, base, key, python, warnings)
        finally:
            if building:
                shutil.rmtree(building, ignore_errors=True)  # gone already when published
            if container:
                # Removing the build container takes most of a second; the run need not wait for it.
                threading.Thread(target=_remove_quietly, args=(self.api, container), daemon=False).start()
        for warning in warnings:
            log.write(f"Warning: {warning}\n")
        log.write(f"Environment {key} ready in {time.monotonic() - started:.1f} s\n")

    def _run_build(self, container, plan, python, choice, conda_packages, log, should_stop):
        """Run the build container, its output into ``log``; raises PreparationCanceled or
        EnvironmentBuildError when it did not succeed."""
        stopped = threading.Event()
        watcher = threading.Thread(target=self._kill_when_stopped, args=(container, should_stop, stopped), daemon=True)
        try:
            log.write(f"Starting the build container ({plan.installer}, Python {python.version})\n")
            self.api.start(container)
            watcher.start()
            try:
                for chunk in self.api.logs(container):
                    log.write(chunk.decode("utf-8", "replace"))
                code = self.api.wait(container).get("StatusCode", 1)
            except (EngineError, BackendUnavailableError):
                if should_stop():  # the watcher removed the container under these calls
                    raise PreparationCanceled() from None
                raise
        finally:
            stopped.set()
        if should_stop():
            raise PreparationCanceled()
        if code != 0:
            raise EnvironmentBuildError(
                f"installing {', '.join(list(plan.packages) + conda_packages)} failed (exit code {code}); see "
                f"azureml-logs/20_image_build_log.txt.{failure_advice(plan, choice)}")

    def _commit(self, container, base, key, python, warnings):
        self.api.commit(container, REPOSITORY, key, [
            f"ENV PATH={ENV_PREFIX}/bin:{_image_path(base)}", f"ENV VIRTUAL_ENV={ENV_PREFIX}", 'CMD ["python"]',
            # the build container's own labels are not the image's: emptied, so a container
            # started from the image is never taken for a build (or another workspace's)
            f"LABEL amlocal.env_key={key} amlocal.base_image={self.base} amlocal.python={python.version} "
            f"{BUILD_LABEL}= amlocal.home=",
            f"LABEL {WARNINGS_LABEL}={json.dumps(json.dumps(warnings))}"])

    def _kill_when_stopped(self, container, should_stop, stopped):
        while not stopped.wait(0.2):
            if should_stop():
                _remove_quietly(self.api, container)
                return

    def _build_command(self, plan, python, conda_packages, has_conda, settings, bundle=None, mounted=False):
        """The build container's shell command, its environment variables and its read-only
        mounts {host path: container path}. ``bundle``: (bytecode tar, constraints, site-packages);
        ``mounted``: the prefix is a host directory (not the container's own filesystem)."""
        mounts = {str(plan.wheels): WHEELS_IN_BUILD, str(BYTECODE_SCRIPT): SCRIPT_IN_BUILD}
        if plan.bytecode_stored:
            mounts[str(bytecode_store())] = STORE_IN_BUILD
        cert = settings.get("cert")
        cert = cert if cert and os.path.isfile(cert) else None
        if cert:
            mounts[os.path.realpath(cert)] = CA_IN_BUILD
        if plan.installer == "uv":
            mounts[os.path.realpath(plan.uv)] = UV_IN_BUILD
        place = Place(venv_python=python, prefix=ENV_PREFIX, wheels=WHEELS_IN_BUILD, bytecode_script=SCRIPT_IN_BUILD,
                      uv=UV_IN_BUILD, bytecode_store=STORE_IN_BUILD if plan.bytecode_stored else None,
                      cert=CA_IN_BUILD if cert else None, index=remote_index_settings(settings),
                      system_site_packages=bool(conda_packages),
                      scratch_cache=f"{ENV_PREFIX}/.amlocal-uv-cache" if mounted else None)
        if bundle:
            mounts[str(bundle[0])], mounts[str(bundle[1])] = BUNDLE_IN_BUILD, CONSTRAINTS_IN_BUILD
            place = replace(place, bytecode_bundle=BUNDLE_IN_BUILD, constraints=CONSTRAINTS_IN_BUILD,
                            site_packages=bundle[2])
        lines = ["set -e"]
        if conda_packages and has_conda:
            channels = " ".join(f"-c {shlex.quote(c)}" for c in self.environment.channels)
            lines.append(f"conda install -y {channels} {' '.join(shlex.quote(c) for c in conda_packages)}")
        pip_steps, environment = install_steps(plan, place, installer="pip")
        if plan.installer == "uv":
            uv_steps, uv_environment = install_steps(plan, place, installer="uv")
            environment.update(uv_environment)
            lines += [f"if {UV_IN_BUILD} --version >/dev/null 2>&1; then", *_shell(uv_steps), "else",
                      "echo 'uv does not run in this image (another C library or architecture); installing with pip'",
                      *_shell(pip_steps), "fi"]
        else:
            lines += _shell(pip_steps)
        return "\n".join(lines), environment, mounts


def container_config(prepared, config):
    """``config`` (a container's, Docker API form) made to run in ``prepared``'s environment:
    its image, its mounts added to the HostConfig's, its PATH and VIRTUAL_ENV before ``config``'s
    own variables."""
    host_config = dict(config.get("HostConfig") or {})
    host_config["Mounts"] = list(host_config.get("Mounts") or []) + list(prepared.get("mounts") or [])
    variables = [f"{k}={v}" for k, v in (prepared.get("env") or {}).items()]
    return {**config, "Image": prepared["image"], "HostConfig": host_config,
            "Env": variables + list(config.get("Env") or [])}


def environments_root():
    """Where mounted environments live: ``<key>/`` (the virtualenv) and ``<key>.json`` (its
    metadata), shared by the workspaces of this machine like images are."""
    return cache_dir() / ENVIRONMENTS_DIR


def read_environment(key):
    """The metadata of the built environment ``key`` ({"python", "base_image", "warnings"}),
    or None when it is not built (or not whole)."""
    root = environments_root()
    if not (root / key).is_dir() or (root / key).is_symlink():
        return None
    try:
        found = json.loads((root / f"{key}.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict):
        return None
    found["warnings"] = _strings(found.get("warnings"))
    return found


def environment_garbage(in_use, older_than=None, now=None):
    """``amlocal gc`` for mounted environments: leftovers of builds no process is making, and
    with ``older_than`` (seconds) the environments unused for that long whose key is not in
    ``in_use`` (what runs that have not ended, and every container of the engine, need)."""
    root, items = environments_root(), []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return items
    for entry in entries:
        key = entry.name[len(BUILDING_PREFIX):].split("-", 1)[0] if entry.name.startswith(BUILDING_PREFIX) else None
        if key is not None:
            if not build_in_progress(f"image-{key}"):
                items.append(GarbageItem("leftover environment build", entry.path, 0,
                                         lambda path=entry.path: _remove_entry(path)))
        elif older_than is not None and entry.is_dir(follow_symlinks=False) and entry.name not in in_use \
                and not build_in_progress(f"image-{entry.name}"):
            used = last_used("image", entry.name) or entry.stat(follow_symlinks=False).st_mtime
            if now - used > older_than:
                items.append(GarbageItem("environment", f"{entry.path} (last used "
                                         f"{time.strftime('%Y-%m-%d', time.localtime(used))})", size_of(entry.path),
                                         lambda name=entry.name: remove_environment(name)))
    return items


def remove_environment(key):
    """Remove the mounted environment ``key``: its metadata first, from then on the environment
    is not whole, so no run takes it."""
    root = environments_root()
    (root / f"{key}.json").unlink(missing_ok=True)
    shutil.rmtree(root / key, ignore_errors=True)


def _remove_entry(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        os.unlink(path)


def _building_directory(key):
    """A fresh directory for ``key``'s build; every user may read it (jobs run as another)."""
    root = environments_root()
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{BUILDING_PREFIX}{key}-", dir=root))
    building.chmod(0o755)
    return building


def _publish(building, key, metadata):
    """Make ``building`` the environment ``key``: its metadata first, then the directory (one
    rename), so an environment whose directory exists is whole."""
    root = environments_root()
    temporary = root / f"{BUILDING_PREFIX}{key}-{os.getpid()}.json"
    temporary.write_text(json.dumps(metadata))
    os.replace(temporary, root / f"{key}.json")
    final = root / key
    if final.is_symlink() or final.exists():  # a leftover without its metadata (removed by hand)
        if final.is_symlink() or not final.is_dir():
            final.unlink()
        else:
            shutil.rmtree(final)
    os.rename(building, final)


def _shell(steps):
    return [f"echo {shlex.quote(step.announce)}\n{shlex.join(step.argv)}" for step in steps]


def _warnings_of(image):
    labels = (image.get("Config") or {}).get("Labels") or {}
    try:
        return _strings(json.loads(labels.get(WARNINGS_LABEL) or "[]"))
    except ValueError:
        return []


def _strings(value):
    """The strings of a list read back from a file or a label (anything else: none)."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _image_path(image):
    for entry in image.get("Config", {}).get("Env") or []:
        if entry.startswith("PATH="):
            return entry[5:]
    return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _remove_quietly(api, container):
    try:
        api.remove(container)
    except Exception:  # already gone, or the engine went away: nothing to clean then
        pass
