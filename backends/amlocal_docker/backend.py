"""``LocalDockerBackend``: environments as images, runs as labelled containers."""

import os
import time

from amlocal._local.backend import DataPath, LocalBackend
from amlocal._runtime import ENV_EXPERIMENT_NAME, ENV_RUN_CONTROL, ENV_RUN_ID, SHIM_DIR

from . import engine
from .container import ContainerExecution
from .image import EnvironmentImage, bind_mounts

WORKDIR = "/amlocal/wd"
CONTROL = "/amlocal/control"
SHIM = "/amlocal/shim"
DATA = "/amlocal/data"
RUN_LABEL = "amlocal.run_id"
AVAILABILITY_TTL_SECONDS = 10


class LocalDockerBackend(LocalBackend):
    name = "docker"
    _availability = {}

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

    _clients = None

    def warm_up(self):
        self._engine_clients()

    def _engine_clients(self):
        """(client for API calls, client without timeout for calls that last as long as a job)."""
        if self._clients is None:
            self._clients = (engine.connect(), engine.connect(timeout=None))
        return self._clients

    def prepare_environment(self, environment, build_log):
        return EnvironmentImage(environment, self._engine_clients()[0]).prepare(build_log)

    def launch(self, prepared, job):
        client = self._engine_clients()[1]
        volumes = {
            str(job.workdir): {"bind": WORKDIR, "mode": "rw"},
            str(job.control_dir): {"bind": CONTROL, "mode": "rw"},
            str(SHIM_DIR): {"bind": SHIM, "mode": "ro"},
        }
        arguments = [self._container_path(a, job, volumes) if isinstance(a, DataPath) else a for a in job.arguments]
        environment = dict(job.environment_variables)
        environment.update({"PYTHONPATH": SHIM, "PYTHONUNBUFFERED": "1", ENV_RUN_CONTROL: CONTROL,
                            ENV_RUN_ID: job.run_id, ENV_EXPERIMENT_NAME: job.experiment, "AZUREML_RUN_ID": job.run_id})
        limits = {}
        if job.cpus:
            limits["nano_cpus"] = int(job.cpus * 1e9)
            threads = str(max(1, int(job.cpus)))
            environment.update({"OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads})
        if job.memory_bytes:
            limits["mem_limit"] = job.memory_bytes
            limits["memswap_limit"] = job.memory_bytes
        user = None
        if os.getuid() != 0:
            user = f"{os.getuid()}:{os.getgid()}"
            environment.setdefault("HOME", "/tmp")
        job.driver_log.parent.mkdir(parents=True, exist_ok=True)
        try:
            container = client.containers.create(
                prepared["image"], [prepared["python"], job.script, *arguments], working_dir=WORKDIR,
                mounts=bind_mounts(volumes), environment=environment, labels=dict(job.labels), user=user, **limits)
            container.start()
        except Exception as err:
            import docker

            if isinstance(err, docker.errors.APIError) and not isinstance(err, docker.errors.NotFound):
                raise
            if isinstance(err, docker.errors.DockerException):
                raise
            raise engine.unavailable(err) from err
        return ContainerExecution(container, job.driver_log)

    def _container_path(self, data_path, job, volumes):
        host = data_path.host_path
        try:
            return f"{WORKDIR}/{host.relative_to(job.workdir).as_posix()}"
        except ValueError:
            pass
        mount = f"{DATA}/{len([v for v in volumes.values() if v['bind'].startswith(DATA)])}"
        volumes[str(host)] = {"bind": mount, "mode": "ro"}
        return mount

    def remove_orphan_containers(self):
        """Remove containers of this workspace's runs whose run is over (or whose supervisor died).
        Returns the ids removed."""
        client = engine.connect()
        removed = []
        for container in client.containers.list(all=True, filters={"label": f"amlocal.workspace={self.workspace.name}"}):
            run_id = container.labels.get(RUN_LABEL)
            try:
                status = self.get_status(run_id)
            except Exception:
                status = "Failed"
            if status in ("Completed", "Failed", "Canceled"):
                container.remove(force=True)
                removed.append(container.id)
        return removed
