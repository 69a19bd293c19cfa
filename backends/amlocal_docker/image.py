"""``EnvironmentImage``: the image a run's environment needs, built once and reused.

The image is tagged ``amlocal/env:<key>``, where the key hashes what defines the environment
(base image id, Python and conda packages, pip options, package indexes). A build starts a
container from the base image with the host's wheel cache mounted, creates a virtualenv
``--without-pip`` at /opt/amlocal-env, fills it with the image's own pip from the wheels
(falling back to the package index with the user's pip settings and CA bundle), and commits it.
"""

import json
import os
import shlex
import threading
import time

from amlocal._config import cache_dir
from amlocal._local import packages
from amlocal.exceptions import EnvironmentBuildError

from .engine import connect

ENV_PREFIX = "/opt/amlocal-env"
REPOSITORY = "amlocal/env"
WHEELS_IN_BUILD = "/amlocal-build/wheels"
CA_IN_BUILD = "/amlocal-build/ca.crt"
PROBE = ("import sys, shutil; print('%d.%d.%d' % sys.version_info[:3]); "
         "print('conda' if shutil.which('conda') else '')")


class EnvironmentImage:
    """Finds (run-path engine client) or builds (Docker SDK) the image of one environment."""

    def __init__(self, environment, api):
        self.environment = environment
        self.deps = environment.get("conda_dependencies") or {}
        self.base = environment["base_image"]
        self.api = api
        self._client = None

    @property
    def client(self):
        """The Docker SDK client, only needed to pull and to build."""
        if self._client is None:
            self._client = connect()
        return self._client

    def prepare(self, log):
        """Return {"image", "python"} for launching; builds on a cache miss. Logs only on a build."""
        base_id = self._base_image_id(log)
        if self.environment.get("user_managed_dependencies") or not (
                self.deps.get("pip_packages") or self.deps.get("conda_packages")):
            return {"image": self.base, "python": "python3"}
        settings = packages.pip_settings()
        key = packages.environment_key(self.environment, base_id, settings)[:20]
        tag = f"{REPOSITORY}:{key}"
        prepared = {"image": tag, "python": f"{ENV_PREFIX}/bin/python"}
        if self.api.image_id(tag):
            return prepared
        with packages.build_lock(f"image-{key}"):
            if not self.api.image_id(tag):  # another run may have built it while this one waited
                self._build(self.client.images.get(base_id), key, settings, log)
        return prepared

    def _base_image_id(self, log):
        found = self.api.image_id(self.base)
        if found:
            return found
        import docker

        log.write(f"Base image {self.base} is not on this machine; pulling it\n")
        try:
            return self.client.images.pull(self.base).id
        except docker.errors.DockerException as err:
            raise EnvironmentBuildError(
                f"Base image {self.base!r} is not on this machine and could not be pulled ({err}). Load or build it "
                "(docker pull / docker import), or choose an image you have: env.docker.base_image, "
                "\"base_image\" in config.json, or AMLOCAL_BASE_IMAGE.") from err

    def _probe(self, base):
        """(python version, has conda) of a base image, cached by image id."""
        path = cache_dir() / "images" / f"{base.id.replace(':', '_')}.json"
        try:
            found = json.loads(path.read_text())
            return found["python"], found["conda"]
        except (OSError, ValueError, KeyError):
            pass
        output = self.client.containers.run(base.id, ["python3", "-c", PROBE], remove=True)
        lines = output.decode().splitlines()
        python, conda = lines[0].strip(), len(lines) > 1 and lines[1].strip() == "conda"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"python": python, "conda": conda}))
        return python, conda

    def _build(self, base, key, settings, log):
        started = time.monotonic()
        log.write(f"Building image {REPOSITORY}:{key} from {self.base}\n")
        try:
            python, has_conda = self._probe(base)
        except Exception as err:
            raise EnvironmentBuildError(f"Base image {self.base!r} cannot run python3 ({err}). A base image needs "
                                        "python3 with the venv and pip modules.") from err
        conda_packages = self.deps.get("conda_packages") or []
        if conda_packages and not has_conda:
            raise EnvironmentBuildError(
                f"The environment asks for conda packages ({', '.join(conda_packages)}) but base image {self.base!r} "
                "has no conda. Use pip packages instead, or a base image with conda.")
        requested = self.deps.get("python_version")
        if requested and ".".join(requested.split(".")[:2]) != ".".join(python.split(".")[:2]):
            log.write(f"Note: python_version {requested} was asked for; {self.base} has Python {python} "
                      "(changing Python needs conda). Using {python}.\n".replace("{python}", python))
        pip_packages = self.deps.get("pip_packages") or []
        wheels, have_wheels = packages.download_wheels(pip_packages, self.deps.get("pip_options"), python, log)
        command, environment, volumes = self._build_command(pip_packages, conda_packages, has_conda, have_wheels,
                                                            settings, wheels)
        # bind mounts via `mounts`, not `volumes`: volumes would be recorded in the committed image
        container = self.client.containers.create(base.id, ["sh", "-c", command], environment=environment,
                                                  mounts=bind_mounts(volumes), labels={"amlocal.build": key})
        try:
            container.start()
            for chunk in container.logs(stream=True, follow=True):
                log.write(chunk.decode("utf-8", "replace"))
            code = container.wait().get("StatusCode", 1)
            if code != 0:
                raise EnvironmentBuildError(f"installing {', '.join(pip_packages + conda_packages)} failed "
                                            f"(exit code {code}); see azureml-logs/20_image_build_log.txt")
            path = _image_path(base)
            container.commit(repository=REPOSITORY, tag=key, changes=[
                f"ENV PATH={ENV_PREFIX}/bin:{path}", f"ENV VIRTUAL_ENV={ENV_PREFIX}", 'CMD ["python"]',
                f"LABEL amlocal.env_key={key} amlocal.base_image={self.base}"])
        finally:
            # Removing the build container takes most of a second; the run need not wait for it.
            threading.Thread(target=_remove_quietly, args=(container,), daemon=False).start()
        log.write(f"Image {REPOSITORY}:{key} ready in {time.monotonic() - started:.1f} s\n")

    def _build_command(self, pip_packages, conda_packages, has_conda, have_wheels, settings, wheels):
        quoted = " ".join(shlex.quote(p) for p in pip_packages)
        options = " ".join(shlex.quote(p) for o in self.deps.get("pip_options") or [] for p in o.split())
        steps = ["set -e"]
        if conda_packages and has_conda:
            channels = " ".join(f"-c {shlex.quote(c)}" for c in self.deps.get("channels") or [])
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
        volumes = {str(wheels): {"bind": WHEELS_IN_BUILD, "mode": "ro"}}
        environment = {}
        remote = packages.remote_index_settings(settings)
        if remote["index_url"]:
            environment["PIP_INDEX_URL"] = remote["index_url"]
        if remote["extra_index_urls"]:
            environment["PIP_EXTRA_INDEX_URL"] = " ".join(remote["extra_index_urls"])
        if remote["trusted_hosts"]:
            environment["PIP_TRUSTED_HOST"] = " ".join(remote["trusted_hosts"])
        cert = settings.get("cert")
        if cert and os.path.isfile(cert):
            volumes[cert] = {"bind": CA_IN_BUILD, "mode": "ro"}
            environment["PIP_CERT"] = CA_IN_BUILD
        return " && ".join(steps), environment, volumes


def _image_path(image):
    for entry in image.attrs.get("Config", {}).get("Env") or []:
        if entry.startswith("PATH="):
            return entry[5:]
    return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def bind_mounts(volumes):
    """{host path: {"bind": path in container, "mode": "ro"|"rw"}} as docker Mount objects."""
    from docker.types import Mount

    return [Mount(target=spec["bind"], source=host, type="bind", read_only=spec["mode"] == "ro")
            for host, spec in volumes.items()]


def _remove_quietly(container):
    try:
        container.remove(force=True)
    except Exception:  # already gone, or the engine went away: nothing to clean then
        pass
