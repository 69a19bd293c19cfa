"""``LocalDockerBackend``: environments as images, runs as labelled containers.

A job is untrusted code. Its container runs as a non-root user (the invoking user's uid/gid,
or ``nobody`` when amlocal runs as root), with every capability dropped, no privilege
escalation, a process limit and a memory limit; it sees its working directory, its control
directory, the read-only in-job runtime and the datastore paths it was given, and nothing
else of the host (no Docker socket, no home directory). Outbound network stays open, as on
AmlCompute, unless the run asks for none.
"""

import os
import time

from amlocal.exceptions import RunNotFoundError
from amlocal.local import (DataPath, GarbageItem, LocalBackend, build_in_progress, environment_key, job_environment,
                           job_shim_dir, last_used, pip_settings)
from amlocal.rules.statuses import TERMINAL
from amlocal.specs import EnvironmentSpec

from . import engine
from .container import ContainerExecution, attach
from .image import (BUILD_LABEL, REPOSITORY, EnvironmentImage, container_config, environment_garbage,
                    environments_root)
from .users import job_user

WORKDIR = "/amlocal/wd"
CONTROL = "/amlocal/control"
SHIM = "/amlocal/shim"
DATA = "/amlocal/data"
RUN_LABEL = "amlocal.run_id"
HOME_LABEL = "amlocal.home"
AVAILABILITY_TTL_SECONDS = 10


class LocalDockerBackend(LocalBackend):
    name = "docker"
    _availability = {}
    _api = None

    @classmethod
    def is_available(cls):
        """Whether an engine answers; remembered for a few seconds per engine address, so a
        long-lived process (a notebook) notices an engine started later."""
        address = engine.engine_address()
        answered, when = cls._availability.get(address, (None, 0.0))
        if answered is None or time.monotonic() - when > AVAILABILITY_TTL_SECONDS:
            answered = engine.ping() is None
            cls._availability[address] = (answered, time.monotonic())
        return answered

    def check_available(self):
        error = engine.ping()
        if error is not None:
            raise engine.unavailable(error)

    def warm_up(self):
        self._engine()

    def _engine(self):
        """The engine client, made once per process."""
        if self._api is None:
            self._api = engine.connect_api(timeout=engine.API_TIMEOUT_SECONDS)
        return self._api

    def prepare_environment(self, environment, build_log, should_stop):
        return EnvironmentImage(environment, self._engine(), labels={HOME_LABEL: self.home_id}).prepare(
            build_log, should_stop)

    def job_user(self):
        return job_user()

    def launch(self, prepared, job, on_created):
        uid, gid = job_user()
        _give_directories(job.control_dir, uid, gid)
        mounts = {str(job.workdir): (WORKDIR, False), str(job.control_dir): (CONTROL, False),
                  str(job_shim_dir()): (SHIM, True)}
        arguments = [self._container_path(a, job, mounts) if isinstance(a, DataPath) else a for a in job.arguments]
        environment = job_environment(job, CONTROL, SHIM)
        environment.setdefault("HOME", "/tmp")
        host_config = {
            "Mounts": [{"Type": "bind", "Source": host, "Target": target, "ReadOnly": read_only}
                       for host, (target, read_only) in mounts.items()],
            "CapDrop": ["ALL"], "SecurityOpt": ["no-new-privileges:true"],
            "Memory": job.memory_bytes, "MemorySwap": job.memory_bytes,
        }
        if job.pids_limit:
            host_config["PidsLimit"] = job.pids_limit
        if job.cpus:
            host_config["NanoCpus"] = int(job.cpus * 1e9)
        if not job.network:
            host_config["NetworkMode"] = "none"
        # stderr joins stdout in the container: the engine copies the two streams apart, so after
        # a flood of output a traceback would reach the log before the last printed lines
        command = ["/bin/sh", "-c", 'exec "$@" 2>&1', "sh", prepared["python"], job.script, *arguments]
        config = {"Cmd": command, "WorkingDir": WORKDIR, "Labels": dict(job.labels), "HostConfig": host_config,
                  "User": f"{uid}:{gid}", "Env": [f"{key}={value}" for key, value in environment.items()]}
        config = container_config(prepared, config)
        job.driver_log.parent.mkdir(parents=True, exist_ok=True)
        api = engine.connect_api(timeout=None)
        container_id = api.create_container(config)
        on_created({"container_id": container_id})
        output = api.attach(container_id)  # before the start, so no line is missed
        try:
            api.start(container_id)
        except BaseException:
            if output is not None:
                output.close()
            raise
        return ContainerExecution(api, container_id, job.driver_log, output=output)

    def reattach(self, handle, job):
        return attach(engine.connect_api(timeout=None), handle, job.driver_log)

    def _container_path(self, data_path, job, mounts):
        host = data_path.host_path
        try:
            return f"{WORKDIR}/{host.relative_to(job.workdir).as_posix()}"
        except ValueError:
            pass
        target = f"{DATA}/{sum(1 for t, _ in mounts.values() if t.startswith(DATA))}"
        mounts[str(host)] = (target, True)
        return target

    def containers(self):
        """This workspace's containers (runs and builds), as the engine lists them."""
        return self._engine().list_containers(labels=[f"{HOME_LABEL}={self.home_id}"])

    def garbage(self, images=False, older_than=None, now=None):
        """Containers of this workspace whose run has ended (or is unknown), build containers of
        this workspace and environment builds no build uses, and with ``images`` environments
        (mounted, or images) unused for ``older_than`` seconds that no run which has not ended
        and no container needs."""
        api, now = self._engine(), time.time() if now is None else now
        items = []
        for container in self.containers():
            labels, container_id = container.get("Labels") or {}, container["Id"]
            run_id, build = labels.get(RUN_LABEL), labels.get(BUILD_LABEL)
            if run_id and self._run_over(run_id):
                items.append(GarbageItem("container of an ended run", f"{container_id[:12]} ({run_id})", 0,
                                         lambda cid=container_id: api.remove(cid)))
            elif build and not build_in_progress(f"image-{build}"):
                items.append(GarbageItem("leftover build container", f"{container_id[:12]} ({build})", 0,
                                         lambda cid=container_id: api.remove(cid)))
        needed = self._needed_image_keys() if images else set()
        if images:
            for image in api.list_images(reference=f"{REPOSITORY}:*"):
                for tag in image.get("RepoTags") or []:
                    key = tag.rpartition(":")[2]
                    used = last_used("image", key) or image.get("Created") or 0
                    if key not in needed and now - used > older_than:
                        items.append(GarbageItem("environment image", f"{tag} (last used "
                                                 f"{time.strftime('%Y-%m-%d', time.localtime(used))})",
                                                 image.get("Size") or 0, lambda name=tag: api.remove_image(name)))
            needed |= self._mounted_environment_keys()
        items += environment_garbage(needed, older_than if images else None, now)
        return items

    def _mounted_environment_keys(self):
        """The mounted environments a container of the engine (any workspace's, in any state)
        has: a container that exists may start again."""
        root, keys = str(environments_root()), set()
        for container in self._engine().list_containers():
            for mount in container.get("Mounts") or []:
                source = mount.get("Source") or ""
                if os.path.dirname(source) == root:
                    keys.add(os.path.basename(source))
        return keys

    def _run_over(self, run_id):
        try:
            return self.history.get_run(run_id)["status"] in TERMINAL
        except RunNotFoundError:
            return True

    def _needed_image_keys(self):
        """The environment keys of the runs that have not ended (their images must stay)."""
        settings, keys = pip_settings(), set()
        for record in self.history.list_runs():
            if record["status"] in TERMINAL or not record.get("environment"):
                continue
            environment = EnvironmentSpec.from_dict(record["environment"])
            base = self._engine().image_id(environment.base_image or "") if environment.base_image else None
            if base:
                keys.add(environment_key(environment, base, settings)[:20])
        return keys


def _give_directories(root, uid, gid):
    """Let the job's user create and remove files in ``root``'s directories. Files keep their
    owner: a file the job did not write stays read-only to it."""
    if os.getuid() != 0 or uid == 0:
        return
    for directory, _, _ in os.walk(root):
        os.chown(directory, uid, gid)
