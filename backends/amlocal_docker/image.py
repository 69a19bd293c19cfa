"""``EnvironmentImage``: the image a run's environment needs, built once and reused.

The image is tagged ``amlocal/env:<key>``, where the key hashes what defines the environment
(base image id, Python and conda packages, pip options, package indexes). A build plans on the
host (``amlocal.local.plan_packages``: the interpreter, the packages, their wheels in the host
wheel cache, their bytecode in the bytecode store), then starts a container from the base image
with those mounted read-only, and the host's uv binary when there is one. In it: a virtualenv at
/opt/amlocal-env (``uv venv``), the packages (``uv pip install --no-index`` from the wheels, or
from the user's indexes with their URLs, trusted hosts and CA bundle), the bytecode (one tar made
from the store, or compiled where the store has none); then the container is committed as the
image. An install from the wheel cache alone runs without a network. When uv is
missing on the host, or its binary cannot run in the image (another C library or architecture),
the same steps run with the image's own pip, slower.

An environment asking for a Python the base image lacks is built with the base image's Python,
and its packages are moved to releases with wheels for it (``amlocal.local.choose_python``); the
build log says so, and so does every run of the image (``prepared["warnings"]``, kept in the
image's ``amlocal.warnings`` label). Build containers carry the labels of the workspace that
asked for the build, so cleaning up after a crash finds them.
"""

import json
import os
import shlex
import threading
import time
from dataclasses import replace

from amlocal.exceptions import BackendUnavailableError, EnvironmentBuildError
from amlocal.local import (BYTECODE_SCRIPT, Interpreter, Place, PreparationCanceled, build_lock, bytecode_bundle,
                           bytecode_store, cache_dir, choose_python, environment_key, failure_advice, find_uv,
                           install_steps, mark_used, pip_settings, plan_packages, remote_index_settings)

from .engine import EngineError

ENV_PREFIX = "/opt/amlocal-env"
REPOSITORY = "amlocal/env"
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
        """Return {"image", "python"} for launching, and "warnings" when the image is not quite
        the environment asked for (another Python); builds on a cache miss. Logs only on a build."""
        base = self._base_image(log)
        if self.environment.user_managed or not self.environment.has_packages:
            return {"image": self.base, "python": "python3"}
        settings = pip_settings()
        key = environment_key(self.environment, base["Id"], settings)[:20]
        tag = f"{REPOSITORY}:{key}"
        image = self.api.inspect_image(tag)
        if image is None:
            with build_lock(f"image-{key}"):
                image = self.api.inspect_image(tag)  # another run may have built it while this one waited
                if image is None:
                    self._build(base, key, settings, log, should_stop)
                    image = self.api.inspect_image(tag) or {}
        prepared = {"image": tag, "python": f"{ENV_PREFIX}/bin/python"}
        mark_used("image", key)
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

    def _build(self, base, key, settings, log, should_stop):
        started = time.monotonic()
        log.write(f"Building image {REPOSITORY}:{key} from {self.base}\n")
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
                                                           (tar, constraints, site) if tar else None)
        host_config = {  # bind mounts, not volumes: volumes would be recorded in the committed image
            "Mounts": [{"Type": "bind", "Source": host, "Target": target, "ReadOnly": True}
                       for host, target in mounts.items()]}
        if plan.offline and not conda_packages:
            host_config["NetworkMode"] = "none"  # everything comes from the mounts
        container = self.api.create_container({
            "Image": base["Id"], "Cmd": ["sh", "-c", command], "Labels": self._labels(key),
            "Env": [f"{k}={v}" for k, v in environment.items()], "HostConfig": host_config})
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
            if should_stop():
                raise PreparationCanceled()
            if code != 0:
                raise EnvironmentBuildError(
                    f"installing {', '.join(list(plan.packages) + conda_packages)} failed (exit code {code}); see "
                    f"azureml-logs/20_image_build_log.txt.{failure_advice(plan, choice)}")
            log.write(f"Saving the environment as image {REPOSITORY}:{key} (docker commit)\n")
            self.api.commit(container, REPOSITORY, key, [
                f"ENV PATH={ENV_PREFIX}/bin:{_image_path(base)}", f"ENV VIRTUAL_ENV={ENV_PREFIX}", 'CMD ["python"]',
                # the build container's own labels are not the image's: emptied, so a container
                # started from the image is never taken for a build (or another workspace's)
                f"LABEL amlocal.env_key={key} amlocal.base_image={self.base} amlocal.python={python.version} "
                f"{BUILD_LABEL}= amlocal.home=",
                f"LABEL {WARNINGS_LABEL}={json.dumps(json.dumps(warnings))}"])
        finally:
            stopped.set()
            # Removing the build container takes most of a second; the run need not wait for it.
            threading.Thread(target=_remove_quietly, args=(self.api, container), daemon=False).start()
        for warning in warnings:
            log.write(f"Warning: {warning}\n")
        log.write(f"Image {REPOSITORY}:{key} ready in {time.monotonic() - started:.1f} s\n")

    def _kill_when_stopped(self, container, should_stop, stopped):
        while not stopped.wait(0.2):
            if should_stop():
                _remove_quietly(self.api, container)
                return

    def _build_command(self, plan, python, conda_packages, has_conda, settings, bundle=None):
        """The build container's shell command, its environment variables and its read-only
        mounts {host path: container path}. ``bundle``: (bytecode tar, constraints, site-packages)."""
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
                      system_site_packages=bool(conda_packages))
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


def _shell(steps):
    return [f"echo {shlex.quote(step.announce)}\n{shlex.join(step.argv)}" for step in steps]


def _warnings_of(image):
    labels = (image.get("Config") or {}).get("Labels") or {}
    try:
        warnings = json.loads(labels.get(WARNINGS_LABEL) or "[]")
    except ValueError:
        return []
    return [w for w in warnings if isinstance(w, str)] if isinstance(warnings, list) else []


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
