"""``EnvironmentImage``: the image a run's environment needs, built once and reused.

The image is tagged ``amlocal/env:<key>``, where the key hashes what defines the environment
(base image id, Python and conda packages, pip options, package indexes). A build starts a
container from the base image with the host's wheel cache mounted, creates a virtualenv
``--without-pip`` at /opt/amlocal-env, fills it with the image's own pip from the wheels
(falling back to the package index with the user's pip settings and CA bundle), and commits it.
Build containers carry the labels of the workspace that asked for the build, so cleaning up
after a crash finds them.
"""

import json
import os
import shlex
import threading
import time

from amlocal.exceptions import BackendUnavailableError, EnvironmentBuildError
from amlocal.local import (PreparationCanceled, build_lock, cache_dir, download_wheels, environment_key, mark_used,
                           pip_settings, remote_index_settings)

from .engine import EngineError

ENV_PREFIX = "/opt/amlocal-env"
REPOSITORY = "amlocal/env"
BUILD_LABEL = "amlocal.build"
WHEELS_IN_BUILD = "/amlocal-build/wheels"
CA_IN_BUILD = "/amlocal-build/ca.crt"
PROBE = ("import sys, shutil; print('%d.%d.%d' % sys.version_info[:3]); "
         "print('conda' if shutil.which('conda') else '')")


class EnvironmentImage:
    """Finds or builds the image of one EnvironmentSpec (its base image resolved)."""

    def __init__(self, environment, api, labels=None):
        self.environment = environment
        self.base = environment.base_image
        self.api = api
        self.labels = dict(labels or {})

    def prepare(self, log, should_stop=lambda: False):
        """Return {"image", "python"} for launching; builds on a cache miss. Logs only on a build."""
        base = self._base_image(log)
        if self.environment.user_managed or not self.environment.has_packages:
            return {"image": self.base, "python": "python3"}
        settings = pip_settings()
        key = environment_key(self.environment, base["Id"], settings)[:20]
        tag = f"{REPOSITORY}:{key}"
        prepared = {"image": tag, "python": f"{ENV_PREFIX}/bin/python"}
        mark_used("image", key)
        if self.api.image_id(tag):
            return prepared
        with build_lock(f"image-{key}"):
            if not self.api.image_id(tag):  # another run may have built it while this one waited
                self._build(base, key, settings, log, should_stop)
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
        """(python version, has conda) of a base image, cached by image id."""
        path = cache_dir() / "images" / f"{base['Id'].replace(':', '_')}.json"
        try:
            found = json.loads(path.read_text())
            return found["python"], found["conda"]
        except (OSError, ValueError, KeyError):
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
        lines = output.splitlines()
        python, conda = lines[0].strip(), len(lines) > 1 and lines[1].strip() == "conda"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"python": python, "conda": conda}))
        return python, conda

    def _labels(self, key):
        return {BUILD_LABEL: key, **self.labels}

    def _build(self, base, key, settings, log, should_stop):
        started = time.monotonic()
        log.write(f"Building image {REPOSITORY}:{key} from {self.base}\n")
        python, has_conda = self._probe(base)
        conda_packages = list(self.environment.conda_packages)
        if conda_packages and not has_conda:
            raise EnvironmentBuildError(
                f"The environment asks for conda packages ({', '.join(conda_packages)}) but base image {self.base!r} "
                "has no conda. Use pip packages instead, or a base image with conda.")
        requested = self.environment.python_version
        if requested and ".".join(requested.split(".")[:2]) != ".".join(python.split(".")[:2]):
            log.write(f"Note: the environment asks for Python {requested}; base image {self.base} has Python "
                      f"{python}, which this build uses (changing Python needs conda).\n")
        pip_packages = list(self.environment.pip_packages)
        wheels, have_wheels = download_wheels(pip_packages, self.environment.pip_options, python, log)
        command, environment, mounts = self._build_command(pip_packages, conda_packages, has_conda, have_wheels,
                                                           settings, wheels)
        container = self.api.create_container({
            "Image": base["Id"], "Cmd": ["sh", "-c", command], "Labels": self._labels(key),
            "Env": [f"{k}={v}" for k, v in environment.items()],
            # bind mounts, not volumes: volumes would be recorded in the committed image
            "HostConfig": {"Mounts": [{"Type": "bind", "Source": host, "Target": target, "ReadOnly": True}
                                      for host, target in mounts.items()]}})
        stopped = threading.Event()
        watcher = threading.Thread(target=self._kill_when_stopped, args=(container, should_stop, stopped), daemon=True)
        try:
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
                raise EnvironmentBuildError(f"installing {', '.join(pip_packages + conda_packages)} failed "
                                            f"(exit code {code}); see azureml-logs/20_image_build_log.txt")
            path = _image_path(base)
            self.api.commit(container, REPOSITORY, key, [
                f"ENV PATH={ENV_PREFIX}/bin:{path}", f"ENV VIRTUAL_ENV={ENV_PREFIX}", 'CMD ["python"]',
                # the build container's own labels are not the image's: emptied, so a container
                # started from the image is never taken for a build (or another workspace's)
                f"LABEL amlocal.env_key={key} amlocal.base_image={self.base} {BUILD_LABEL}= amlocal.home="])
        finally:
            stopped.set()
            # Removing the build container takes most of a second; the run need not wait for it.
            threading.Thread(target=_remove_quietly, args=(self.api, container), daemon=False).start()
        log.write(f"Image {REPOSITORY}:{key} ready in {time.monotonic() - started:.1f} s\n")

    def _kill_when_stopped(self, container, should_stop, stopped):
        while not stopped.wait(0.2):
            if should_stop():
                _remove_quietly(self.api, container)
                return

    def _build_command(self, pip_packages, conda_packages, has_conda, have_wheels, settings, wheels):
        quoted = " ".join(shlex.quote(p) for p in pip_packages)
        options = " ".join(shlex.quote(p) for o in self.environment.pip_options for p in o.split())
        steps = ["set -e"]
        if conda_packages and has_conda:
            channels = " ".join(f"-c {shlex.quote(c)}" for c in self.environment.channels)
            steps.append(f"conda install -y {channels} {' '.join(shlex.quote(c) for c in conda_packages)}")
        site = " --system-site-packages" if conda_packages else ""
        steps.append(f"python3 -m venv --without-pip{site} {ENV_PREFIX}")
        # pip compiles bytecode one file at a time; compileall on every core is faster (and a
        # file that does not compile is skipped, as pip does)
        pip = (f"python3 -m pip --python {ENV_PREFIX}/bin/python install --no-cache-dir --no-compile "
               "--disable-pip-version-check --progress-bar off")
        if pip_packages:
            if have_wheels:
                steps.append(f"{pip} --no-index --find-links {WHEELS_IN_BUILD} {quoted}")
            else:
                steps.append(f"{pip} --find-links {WHEELS_IN_BUILD} {options} {quoted}")
            steps.append(f"echo 'Compiling bytecode' && ({ENV_PREFIX}/bin/python -m compileall -q -j 0 "
                         f"{ENV_PREFIX}/lib >/dev/null 2>&1 || true)")
        mounts = {str(wheels): WHEELS_IN_BUILD}
        environment = {}
        remote = remote_index_settings(settings)
        if remote["index_url"]:
            environment["PIP_INDEX_URL"] = remote["index_url"]
        if remote["extra_index_urls"]:
            environment["PIP_EXTRA_INDEX_URL"] = " ".join(remote["extra_index_urls"])
        if remote["trusted_hosts"]:
            environment["PIP_TRUSTED_HOST"] = " ".join(remote["trusted_hosts"])
        cert = settings.get("cert")
        if cert and os.path.isfile(cert):
            mounts[cert] = CA_IN_BUILD
            environment["PIP_CERT"] = CA_IN_BUILD
        return " && ".join(steps), environment, mounts


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
