"""``LocalDockerBackend``: environments as images, runs as labelled containers."""

import os
import time

from amlocal._local.backend import DataPath, LocalBackend
from amlocal._runtime import ENV_EXPERIMENT_NAME, ENV_RUN_CONTROL, ENV_RUN_ID, SHIM_DIR

from . import engine
from .container import ContainerExecution
from .image import EnvironmentImage

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

    _api = None

    def warm_up(self):
        self._engine()

    def _engine(self):
        """The run-path engine client (see engine.py), made once per supervisor."""
        if self._api is None:
            self._api = engine.connect_api(timeout=engine.API_TIMEOUT_SECONDS)
        return self._api

    def prepare_environment(self, environment, build_log):
        return EnvironmentImage(environment, self._engine()).prepare(build_log)

    def launch(self, prepared, job):
        volumes = {
            str(job.workdir): {"bind": WORKDIR, "mode": "rw"},
            str(job.control_dir): {"bind": CONTROL, "mode": "rw"},
            str(SHIM_DIR): {"bind": SHIM, "mode": "ro"},
        }
        arguments = [self._container_path(a, job, volumes) if isinstance(a, DataPath) else a for a in job.arguments]
        environment = dict(job.environment_variables)
        environment.update({"PYTHONPATH": SHIM, "PYTHONUNBUFFERED": "1", ENV_RUN_CONTROL: CONTROL,
                            ENV_RUN_ID: job.run_id, ENV_EXPERIMENT_NAME: job.experiment, "AZUREML_RUN_ID": job.run_id})
        host_config = {"Mounts": [{"Type": "bind", "Source": host, "Target": spec["bind"],
                                   "ReadOnly": spec["mode"] == "ro"} for host, spec in volumes.items()]}
        if job.cpus:
            host_config["NanoCpus"] = int(job.cpus * 1e9)
            threads = str(max(1, int(job.cpus)))
            environment.update({"OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads})
        if job.memory_bytes:
            host_config["Memory"] = host_config["MemorySwap"] = job.memory_bytes
        config = {"Image": prepared["image"], "Cmd": [prepared["python"], job.script, *arguments],
                  "WorkingDir": WORKDIR, "Labels": dict(job.labels), "HostConfig": host_config}
        if os.getuid() != 0:
            config["User"] = f"{os.getuid()}:{os.getgid()}"
            environment.setdefault("HOME", "/tmp")
        config["Env"] = [f"{key}={value}" for key, value in environment.items()]
        job.driver_log.parent.mkdir(parents=True, exist_ok=True)
        api = engine.connect_api(timeout=None)
        container_id = api.create_container(config)
        api.start(container_id)
        return ContainerExecution(api, container_id, job.driver_log, memory_limited=bool(job.memory_bytes))

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
