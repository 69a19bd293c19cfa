"""``DockerServing``: each web service a labelled container running Azure's inference server.

A deployment builds (or reuses) the environment's image with the same builder and cache as
training (``EnvironmentImage``), copies the service's sources, and starts a container that
outlives the process that made it: ``azmlinfsrv`` over the entry script, the models mounted
read-only from the registry, Azure's layout under /var/azureml-app. Like a training job it runs
as a non-root user, with every capability dropped, no privilege escalation and a process limit.

The container shares the host's network (Docker's userland proxy would cost a third of the
throughput) and listens only where the spec says: loopback unless the user asks otherwise
(``gunicorn_conf``). A second, private health port on loopback lets amlocal probe one
deployment while another holds the service port.

Each service is recorded in ``<workspace>/services/<name>.json`` (its spec, container, ports),
and its containers carry the labels ``amlocal.service`` and ``amlocal.home``, so any process
finds it. Redeploying a running service starts the new container on the same port, waits
until it answers, then stops the old one (see ``gunicorn_conf`` for how connections move).
"""

import fcntl
import hashlib
import http.client
import json
import os
import shutil
import socket
import time
from contextlib import contextmanager
from pathlib import Path

from amlocal.exceptions import BackendUnavailableError, WebserviceException, WebserviceNotFoundError
from amlocal.local import DEFAULT_BASE_IMAGE, cache_dir
from amlocal.serving import (APP_ROOT, ServiceRecord, ServiceSpec, ServingBackend, copy_app_sources,
                             model_dir_variable, service_name_problem)
from amlocal.specs import replace

from . import engine
from .docker_backend import HOME_LABEL, job_user
from .engine import EngineError, NotFound
from .image import BUILD_LABEL, EnvironmentImage, container_config

SERVICE_LABEL = "amlocal.service"
DEPLOYMENT_LABEL = "amlocal.deployment"
CONF_IN_CONTAINER = "/amlocal/serving"
DEFAULT_SCORING_TIMEOUT_MS = 60_000          # Azure's default for AKS services
DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024
PIDS_LIMIT = 512
#: how long a replaced deployment keeps its port after the new one answers, to finish what it accepted
DRAIN_SECONDS = 1.0
STOP_SECONDS = 10
PROBE_TIMEOUT_SECONDS = 2
LOG_TAIL_LINES = 60


class DockerServing(ServingBackend):
    def __init__(self, workspace, state_dir, home_id, stores=None):
        self.workspace = workspace
        self.state_dir = Path(os.path.abspath(state_dir))
        self.home_id = home_id
        self._api = None

    @property
    def api(self):
        if self._api is None:
            error = engine.ping()
            if error is not None:
                raise BackendUnavailableError(
                    f"Web services run in Docker containers, and no Docker engine answers at "
                    f"{engine.engine_address()} ({error.__cause__ or error}). Start one (`dockerd &`, or `systemctl start docker`; "
                    "`make docker` installs and starts it on Debian); the process backend cannot serve models.")
            self._api = engine.connect_api()
        return self._api

    # -- records -------------------------------------------------------------------------------
    def _record_path(self, name):
        if service_name_problem(name):  # never a path built from a name that could leave state_dir
            raise _not_found(name)
        return self.state_dir / f"{name}.json"

    def _read(self, name):
        try:
            return json.loads(self._record_path(name).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise WebserviceException(f"The record of service {name!r} ({self._record_path(name)}) cannot be read "
                                      f"({err}). Delete the service (amlocal service delete {name}) and deploy "
                                      "it again.") from err

    def _write(self, name, record):
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = self.state_dir / f".{name}.{os.getpid()}.json"
        partial.write_text(json.dumps(record, indent=2))
        os.replace(partial, self._record_path(name))

    @contextmanager
    def _locked(self, name):
        """One deploy or delete of a service at a time, across processes."""
        self._record_path(name)
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.state_dir / f".{name}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- deploy --------------------------------------------------------------------------------
    def deploy(self, spec, log):
        with self._locked(spec.name):
            previous = self._read(spec.name)
            self._remove_strays(spec.name, keep=previous and previous["container_id"])
            running = previous if previous and self._is_running(previous["container_id"]) else None
            environment = replace(spec.environment, base_image=spec.environment.base_image
                                  or self.workspace.base_image or DEFAULT_BASE_IMAGE)
            prepared = EnvironmentImage(environment, self.api, labels={HOME_LABEL: self.home_id}).prepare(log)
            port = self._service_port(spec, running)
            deployment = self._start(spec, prepared, port)
            now = time.time()
            record = {"spec": spec.to_dict(), "created": (previous or {}).get("created") or now, "updated": now,
                      **deployment}
            if running is None:
                self._write(spec.name, record)
                if previous:
                    self._discard(previous)
                return self._as_record(record, "deploying")
            try:
                self._wait_healthy(record, timeout=None)
            except BaseException:
                self._discard(record)
                raise
            time.sleep(DRAIN_SECONDS)  # let the old server finish the connections it accepted
            self._write(spec.name, record)
            self._discard(previous)
            return self._as_record(record, "running")

    def _service_port(self, spec, running):
        """The port the new deployment listens on: the one asked for, else the running one's
        (so its URI stays), else a free one. Raises WebserviceException when it is taken."""
        shares = running and running["bind_address"] == spec.bind_address
        if spec.port is None:
            return running["port"] if shares else free_port(spec.bind_address)
        if shares and running["port"] == spec.port:
            return spec.port
        for record in self._all_records():
            if record["port"] == spec.port and record["spec"]["name"] != spec.name:
                raise WebserviceException(
                    f"Docker container start has failed, the port you are attempting to use is already in use: port "
                    f"{spec.port} is service {record['spec']['name']!r}'s. Choose another port "
                    "(LocalWebservice.deploy_configuration(port=...)), or delete that service.")
        problem = port_problem(spec.bind_address, spec.port)
        if problem:
            raise WebserviceException(
                f"Docker container start has failed, the port you are attempting to use is already in use: "
                f"{spec.bind_address}:{spec.port} ({problem}). Choose another port "
                "(LocalWebservice.deploy_configuration(port=...)), or stop what listens there.")
        return spec.port

    def _start(self, spec, prepared, port):
        deployment_id = os.urandom(4).hex()
        directory = self.state_dir / spec.name / deployment_id
        uid, gid = job_user()
        app = directory / spec.app_name
        skipped = copy_app_sources(spec, app)
        _give(directory, uid, gid)
        for model in spec.models:
            _let_read(Path(model.path), uid)
        health_port = free_port("127.0.0.1")
        mounts = [{"Type": "bind", "Source": str(app), "Target": f"{APP_ROOT}/{spec.app_name}", "ReadOnly": True},
                  {"Type": "bind", "Source": str(_conf_dir()), "Target": CONF_IN_CONTAINER, "ReadOnly": True}]
        mounts += [{"Type": "bind", "Source": os.path.realpath(m.path), "Target": m.container_path, "ReadOnly": True}
                   for m in spec.models]
        host_config = {"NetworkMode": "host", "Mounts": mounts, "CapDrop": ["ALL"],
                       "SecurityOpt": ["no-new-privileges:true"], "PidsLimit": PIDS_LIMIT}
        if spec.memory_gb:
            host_config["Memory"] = host_config["MemorySwap"] = int(spec.memory_gb * 1024 ** 3)
        if spec.cpu_cores:
            host_config["NanoCpus"] = int(spec.cpu_cores * 1e9)
        # A committed image keeps its build container's labels, and containers inherit them: without
        # the empty build label a service would look like a leftover build container to `amlocal gc`.
        labels = {SERVICE_LABEL: spec.name, HOME_LABEL: self.home_id, DEPLOYMENT_LABEL: deployment_id,
                  BUILD_LABEL: ""}
        python = prepared["python"]
        server = os.path.join(os.path.dirname(python), "azmlinfsrv") if "/" in python else "azmlinfsrv"
        config = {"Labels": labels, "HostConfig": host_config,
                  "Cmd": [server, "--entry_script", f"{APP_ROOT}/{spec.app_name}/{spec.entry_in_app}",
                          "--port", str(port)],
                  "WorkingDir": APP_ROOT, "User": f"{uid}:{gid}",
                  "Env": [f"{k}={v}" for k, v in self._variables(spec, port, health_port).items()]}
        config = container_config(prepared, config)
        name = f"amlocal-{self.home_id[:8]}-{spec.name}-{deployment_id}"
        container_id = None
        try:
            container_id = self.api.create_container(config, name=name)
            self.api.start(container_id)
        except EngineError as err:
            if container_id:  # created but not started: nothing of it may stay
                _remove_quietly(self.api, container_id)
            shutil.rmtree(directory, ignore_errors=True)
            hint = ("\nThe environment has no inference server (azmlinfsrv): add azureml-inference-server-http to "
                    "its pip packages (amlocal adds it unless the environment is user-managed)."
                    if "azmlinfsrv" in err.message else "")
            raise WebserviceException(f"Docker container start has failed:\n{err.message}{hint}") from err
        return {"container_id": container_id, "container_name": name, "deployment": deployment_id, "port": port,
                "health_port": health_port, "bind_address": spec.bind_address, "image": prepared["image"],
                "mounts": [m["Source"] for m in prepared.get("mounts") or []], "directory": str(directory),
                "skipped_links": skipped}

    def _variables(self, spec, port, health_port):
        variables = {"SCORING_TIMEOUT_MS": str(DEFAULT_SCORING_TIMEOUT_MS), "WORKER_COUNT": "1",
                     "AMLOCAL_MAX_REQUEST_BYTES": str(DEFAULT_MAX_REQUEST_BYTES), "PYTHONUNBUFFERED": "1"}
        variables.update(spec.environment.environment_variables)
        variables.update({
            "AZUREML_MODEL_DIR": model_dir_variable(spec.models), "AML_APP_ROOT": APP_ROOT,
            "AZUREML_SOURCE_DIRECTORY": spec.app_name, "AZUREML_ENTRY_SCRIPT": f"{spec.app_name}/{spec.entry_in_app}",
            "SERVICE_NAME": spec.name, "WORKSPACE_NAME": self.workspace.name, "HOME": "/tmp",
            "GUNICORN_CMD_ARGS": f"--config {CONF_IN_CONTAINER}/gunicorn_conf.py",
            "AMLOCAL_SERVICE_PORT": str(port),
            "AMLOCAL_BINDS": f"{_host(spec.bind_address)}:{port},127.0.0.1:{health_port}",
        })
        return variables

    # -- waiting and state ---------------------------------------------------------------------
    def wait(self, name, timeout):
        record = self._read(name)
        if record is None:
            raise _not_found(name)
        self._wait_healthy(record, timeout)
        return self._as_record(record, "running")

    def _wait_healthy(self, record, timeout):
        """Until the deployment's health port answers; raises with the log when its container
        exits or ``timeout`` (None: no limit) passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if probe(record["health_port"]):
                return
            state = self._container_state(record["container_id"])
            if not state.get("Running"):
                raise self._failure(record, "Error: Container has crashed. Did your init method fail?", state)
            if deadline is not None and time.monotonic() > deadline:
                raise self._failure(record, f"Error: Connection to container has timed out after {timeout:.0f} s. "
                                            "Did your init method hang? (wait_for_deployment(timeout_sec=...) "
                                            "waits longer.)", state)
            time.sleep(0.05)

    def _failure(self, record, message, state):
        tail = self._tail(record["container_id"], LOG_TAIL_LINES)
        code = state.get("ExitCode")
        detail = f" The server exited with code {code}." if state and not state.get("Running") else ""
        return WebserviceException(f"{message}{detail}\n--- last lines of the service log ---\n{tail}",
                                   log_tail=tail)

    def _container_state(self, container_id):
        try:
            return self.api.inspect_container(container_id)["State"]
        except NotFound:
            return {"Running": False, "Status": "removed"}

    def _is_running(self, container_id):
        return bool(self._container_state(container_id).get("Running"))

    def _tail(self, container_id, lines):
        try:
            return b"".join(self.api.logs(container_id, follow=False, tail=lines)).decode("utf-8", "replace")
        except NotFound:
            return "(the container is gone: no log)"

    def _as_record(self, record, state, error=None):
        return ServiceRecord(spec=ServiceSpec.from_dict(record["spec"]), state=state, port=record["port"],
                             created_time=record.get("created"), updated_time=record.get("updated"), error=error)

    def _state_of(self, record):
        state = self._container_state(record["container_id"])
        if state.get("Running"):
            return self._as_record(record, "running" if probe(record["health_port"]) else "deploying")
        why = ("its container is gone" if state.get("Status") == "removed"
               else f"its server exited with code {state.get('ExitCode')}")
        return self._as_record(record, "failed", error=f"Service {record['spec']['name']!r} is not running: {why}.")

    def get(self, name):
        record = self._read(name)
        if record is None:
            raise _not_found(name)
        return self._state_of(record)

    def list(self):
        return [self._state_of(record) for record in self._all_records()]

    def _all_records(self):
        if not self.state_dir.is_dir():
            return []
        records = []
        for path in sorted(self.state_dir.glob("*.json")):
            try:
                records.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # being replaced, or unreadable: `get` says so for that name
        return records

    def logs(self, name, num_lines=5000):
        record = self._read(name)
        if record is None:
            raise _not_found(name)
        return self._tail(record["container_id"], num_lines)

    def vanished(self, model_exists):
        found = []
        for record in self._all_records():
            spec = ServiceSpec.from_dict(record["spec"])
            gone = [f"{m.name}:{m.version}" for m in spec.models
                    if (m.version and not model_exists(m.name, m.version)) or not os.path.exists(m.path)]
            if gone:
                found.append((spec.name, f"model {', '.join(gone)} is no longer registered"))
            elif record.get("image") and not self.api.image_id(record["image"]):
                found.append((spec.name, f"its environment image {record['image']} is gone"))
            elif any(not os.path.isdir(path) for path in record.get("mounts") or []):
                found.append((spec.name, "its environment is gone (amlocal gc --images removed it)"))
        return found

    # -- delete --------------------------------------------------------------------------------
    def delete(self, name):
        with self._locked(name):
            record = self._read(name)
            self._remove_strays(name, keep=None)
            if record:
                self._discard(record)
                self._record_path(name).unlink(missing_ok=True)
            shutil.rmtree(self.state_dir / name, ignore_errors=True)

    def _discard(self, record):
        """Stop a deployment (SIGTERM: it finishes the requests it holds) and remove it."""
        try:
            self.api.stop(record["container_id"], STOP_SECONDS)
        except NotFound:
            pass
        except EngineError:
            pass  # already stopped; removal below forces it anyway
        _remove_quietly(self.api, record["container_id"])
        directory = Path(record.get("directory") or "")
        if directory.is_absolute() and self.state_dir.resolve() in directory.resolve().parents:
            shutil.rmtree(directory, ignore_errors=True)  # only ever a deployment's own copy

    def _remove_strays(self, name, keep):
        """Containers of this service left by a process that died mid-deploy."""
        for container in self.api.list_containers(labels=[f"{SERVICE_LABEL}={name}", f"{HOME_LABEL}={self.home_id}"]):
            if container["Id"] != keep:
                _remove_quietly(self.api, container["Id"])


def probe(port):
    """Whether the inference server answers its liveness probe (GET /) on loopback ``port``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT_SECONDS)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        response.read(1024)
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def free_port(address):
    """A port nothing listens on at ``address``, as the kernel picks one."""
    with socket.socket(_family(address), socket.SOCK_STREAM) as probe_socket:
        probe_socket.bind((_host(address), 0))
        return probe_socket.getsockname()[1]


def port_problem(address, port):
    """Why ``port`` cannot be listened on at ``address`` (None when it can)."""
    with socket.socket(_family(address), socket.SOCK_STREAM) as probe_socket:
        probe_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe_socket.bind((_host(address), port))
        except OSError as err:
            return err.strerror or str(err)
    return None


def _family(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _host(address):
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def _not_found(name):
    return WebserviceNotFoundError(f"WebserviceNotFound: Webservice with name {name} not found in provided "
                                   "workspace. `amlocal service list` shows the services.")


def _conf_dir():
    """gunicorn_conf.py in a directory of its own in the cache, readable by the service's user."""
    source = Path(__file__).with_name("gunicorn_conf.py")
    text = source.read_bytes()
    target = cache_dir() / "serving" / hashlib.sha256(text).hexdigest()[:16]
    if not (target / "gunicorn_conf.py").exists():
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        partial.mkdir(parents=True, exist_ok=True)
        (partial / "gunicorn_conf.py").write_bytes(text)
        os.chmod(partial / "gunicorn_conf.py", 0o644)
        os.chmod(partial, 0o755)
        try:
            partial.rename(target)
        except OSError:  # another process put it there first
            shutil.rmtree(partial, ignore_errors=True)
    return target


def _give(root, uid, gid):
    """The copied sources belong to the service's user (read-only for it: the mount is)."""
    if os.getuid() != 0 or uid == 0:
        return
    for directory, _, files in os.walk(root):
        os.chown(directory, uid, gid)
        for name in files:
            os.chown(os.path.join(directory, name), uid, gid)


def _let_read(path, uid):
    """Let the service's user read a model's files when it does not own them (amlocal runs as
    root, the service as nobody). The workspace directory stays private (0700), so other
    users of this machine still cannot reach them."""
    if os.getuid() != 0 or uid == 0 or not path.exists():
        return
    for item in [path, *(path.rglob("*") if path.is_dir() else [])]:
        if item.is_symlink():
            continue
        mode = item.stat().st_mode
        wanted = mode | 0o004 | (0o001 if item.is_dir() else 0)
        if wanted != mode:
            os.chmod(item, wanted)


def _remove_quietly(api, container_id):
    try:
        api.remove(container_id)
    except Exception:  # already gone, or the engine went away: nothing to clean then
        pass
