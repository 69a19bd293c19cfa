"""Talking to the Docker engine.

A run's hot path — is the engine there, does the image exist, create / start / wait for / read
the logs of / inspect / kill / remove the run's container — goes through ``EngineAPI``, a small
client of the Engine HTTP API on its unix socket. Importing the Docker SDK (requests, urllib3,
paramiko) costs 120-200 ms of CPU in every run's supervisor, which showed in the benchmarks'
concurrent runs; this client costs a few milliseconds. Image builds, pulls and container
listing use the Docker SDK. When DOCKER_HOST is not a unix socket (tcp, ssh, TLS), the SDK's
low-level client serves the same calls (``SdkEngineAPI``).
"""

import http.client
import json
import os
import socket
import struct
from urllib.parse import quote, urlencode

from amlocal.exceptions import BackendUnavailableError

PING_TIMEOUT_SECONDS = 3
API_TIMEOUT_SECONDS = 120
API_VERSION = "v1.41"  # Docker 20.10; newer engines serve it too
DEFAULT_SOCKET = "unix:///var/run/docker.sock"


class EngineError(Exception):
    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class NotFound(EngineError):
    pass


def engine_address():
    return os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET


def unavailable(err):
    return BackendUnavailableError(
        f"No Docker engine answers at {engine_address()} ({err}). Start one (`dockerd &`, or "
        "`systemctl start docker`; `make docker` installs and starts it on Debian), or use the process "
        "backend: AMLOCAL_BACKEND=process.")


def connect_api(timeout=API_TIMEOUT_SECONDS):
    """The run-path client; ``timeout=None`` for calls that last as long as a job."""
    address = engine_address()
    if address.startswith("unix://"):
        return EngineAPI(address[len("unix://"):], timeout)
    return SdkEngineAPI(timeout)


def connect(timeout=API_TIMEOUT_SECONDS):
    """A Docker SDK client (builds, pulls, listing)."""
    try:
        import docker
    except ImportError as err:
        raise BackendUnavailableError("The docker backend needs the Docker SDK for Python: pip install docker") from err
    try:
        return docker.from_env(timeout=timeout)
    except docker.errors.DockerException as err:
        raise unavailable(err) from err


def ping():
    """None when an engine answers, else the error."""
    try:
        connect_api(PING_TIMEOUT_SECONDS).ping()
        return None
    except Exception as err:  # any failure to talk means "not available"
        return err


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class EngineAPI:
    """The few Engine API calls a run needs, over the engine's unix socket."""

    def __init__(self, socket_path, timeout=API_TIMEOUT_SECONDS):
        self.socket_path = socket_path
        self.timeout = timeout

    def _request(self, method, path, body=None, query=None, stream=False, timeout=...):
        connection = _UnixConnection(self.socket_path, self.timeout if timeout is ... else timeout)
        url = f"/{API_VERSION}{path}" + (f"?{urlencode(query)}" if query else "")
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            connection.request(method, url, body=json.dumps(body) if body is not None else None, headers=headers)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as err:
            connection.close()
            raise unavailable(err) from err
        if response.status >= 400:
            data = response.read()
            connection.close()
            try:
                message = json.loads(data).get("message", data.decode())
            except ValueError:
                message = data.decode("utf-8", "replace")
            raise (NotFound if response.status == 404 else EngineError)(response.status, message)
        if stream:
            return response
        try:
            data = response.read()
        except (OSError, http.client.HTTPException) as err:
            raise unavailable(err) from err
        finally:
            connection.close()
        return json.loads(data) if data.strip() and data[:1] in b"{[" else data

    def ping(self):
        self._request("GET", "/_ping")

    def image_id(self, name):
        """The id of image ``name``, or None when the engine has no such image."""
        try:
            return self._request("GET", f"/images/{quote(name, safe='')}/json")["Id"]
        except NotFound:
            return None

    def create_container(self, config):
        return self._request("POST", "/containers/create", body=config)["Id"]

    def start(self, container_id):
        self._request("POST", f"/containers/{container_id}/start")

    def wait(self, container_id):
        """Block until the container exits; {"StatusCode": n, "Error": ...}."""
        return self._request("POST", f"/containers/{container_id}/wait", timeout=None)

    def logs(self, container_id):
        """The container's stdout and stderr as they come, until it exits (bytes chunks)."""
        response = self._request("GET", f"/containers/{container_id}/logs",
                                 query={"follow": 1, "stdout": 1, "stderr": 1}, stream=True, timeout=None)
        try:
            while True:
                header = response.read(8)
                if len(header) < 8:
                    return
                size = struct.unpack(">I", header[4:])[0]
                yield response.read(size)
        except (OSError, http.client.HTTPException) as err:
            raise unavailable(err) from err
        finally:
            response.close()

    def inspect_container(self, container_id):
        return self._request("GET", f"/containers/{container_id}/json")

    def kill(self, container_id):
        self._request("POST", f"/containers/{container_id}/kill")

    def remove(self, container_id):
        self._request("DELETE", f"/containers/{container_id}", query={"force": 1, "v": 1})


class SdkEngineAPI:
    """The same calls through the Docker SDK's low-level client, for non-unix engines."""

    def __init__(self, timeout=API_TIMEOUT_SECONDS):
        import docker

        self._errors = docker.errors
        self.api = connect(timeout).api

    def _call(self, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except self._errors.NotFound as err:
            raise NotFound(404, str(err)) from err
        except self._errors.APIError as err:
            raise EngineError(err.status_code, str(err)) from err
        except Exception as err:
            raise unavailable(err) from err

    def ping(self):
        self._call(self.api.ping)

    def image_id(self, name):
        try:
            return self._call(self.api.inspect_image, name)["Id"]
        except NotFound:
            return None

    def create_container(self, config):
        return self._call(self.api.create_container_from_config, config)["Id"]

    def start(self, container_id):
        self._call(self.api.start, container_id)

    def wait(self, container_id):
        return self._call(self.api.wait, container_id, timeout=None)

    def logs(self, container_id):
        yield from self._call(self.api.logs, container_id, stream=True, follow=True)

    def inspect_container(self, container_id):
        return self._call(self.api.inspect_container, container_id)

    def kill(self, container_id):
        self._call(self.api.kill, container_id)

    def remove(self, container_id):
        self._call(self.api.remove_container, container_id, force=True, v=True)
