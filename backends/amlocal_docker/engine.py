"""Talking to the Docker engine: a small client of the Engine HTTP API.

Everything the backend does — is the engine there, inspect / pull / remove images, create /
start / wait for / read the logs of / inspect / kill / commit / remove containers, list them by
label — goes through ``EngineAPI``. On the usual unix socket it speaks HTTP itself (a few
milliseconds per process, where importing the Docker SDK costs 120-200 ms of CPU in every
supervisor); for any other DOCKER_HOST (tcp, ssh, TLS) the same calls go through the Docker
SDK's session (the ``amlocal[docker]`` extra), which knows those transports.
"""

import http.client
import json
import os
import socket
import struct
from urllib.parse import quote, urlencode

from amlocal.exceptions import BackendError, BackendUnavailableError

PING_TIMEOUT_SECONDS = 3
API_TIMEOUT_SECONDS = 120
API_VERSION = "v1.41"  # Docker 20.10; newer engines serve it too
DEFAULT_SOCKET = "unix:///var/run/docker.sock"
#: at most this much of a log stream is read at once (whatever has arrived, up to it)
LOG_READ_BYTES = 1 << 20


class EngineError(BackendError):
    """The engine answered with an error (``status`` is its HTTP status)."""

    def __init__(self, status, message):
        super().__init__(f"Docker engine error {status}: {message}")
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
    """An engine client; ``timeout=None`` for calls that last as long as a job."""
    address = engine_address()
    if address.startswith("unix://"):
        return EngineAPI(_UnixTransport(address[len("unix://"):]), timeout)
    return EngineAPI(_SdkTransport(), timeout)


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


class _UnixTransport:
    def __init__(self, socket_path):
        self.socket_path = socket_path

    def hijack(self, url):
        return _hijack_unix(self.socket_path, url)

    def request(self, method, url, body, timeout, plain_stream=False):
        """(status, response with .read(n) and .close()). ``plain_stream``: ask in HTTP/1.0, so
        that a long stream comes as plain bytes until the engine closes it, not as HTTP chunks
        (the engine makes one chunk per log line, and reading chunks one by one is slow)."""
        connection = _UnixConnection(self.socket_path, timeout)
        if plain_stream:
            connection._http_vsn, connection._http_vsn_str = 10, "HTTP/1.0"
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            connection.request(method, url, body=body, headers=headers)
            return connection.getresponse()
        except (OSError, http.client.HTTPException) as err:
            connection.close()
            raise unavailable(err) from err


def _hijack_unix(socket_path, url):
    """POST ``url`` asking to upgrade the connection to a raw stream (as ``docker attach``
    does); the raw stream. Raises EngineError when the engine answers otherwise."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(API_TIMEOUT_SECONDS)
        sock.connect(socket_path)
        sock.sendall(f"POST {url} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n"
                     "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            block = sock.recv(65536)
            if not block:
                raise EngineError(500, "the engine closed the connection while attaching")
            head += block
        head, _, early = head.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status not in (101, 200):
            raise (NotFound if status == 404 else EngineError)(status, head.decode("utf-8", "replace"))
        sock.settimeout(None)
        return _Hijacked(sock, early)
    except OSError as err:
        sock.close()
        raise unavailable(err) from err
    except BaseException:
        sock.close()
        raise


class _SdkResponse:
    def __init__(self, response):
        self._response = response
        self.status = response.status_code

    def read(self, size=None):
        return self._response.raw.read(size) if size is not None else self._response.content

    def read1(self, size):
        """What has arrived, up to ``size`` bytes (at least one, or b"" at the end)."""
        raw = self._response.raw
        return raw.read1(size) if hasattr(raw, "read1") else raw.read(1)

    def close(self):
        self._response.close()


class _SdkTransport:
    """The Docker SDK's session, for engines reached over tcp, ssh or TLS."""

    def __init__(self):
        try:
            import docker
        except ImportError as err:
            raise BackendUnavailableError(
                f"DOCKER_HOST={engine_address()} needs the Docker SDK for Python: pip install 'amlocal[docker]'"
            ) from err
        try:
            self.client = docker.APIClient(**docker.utils.kwargs_from_env())
        except docker.errors.DockerException as err:
            raise unavailable(err) from err

    def request(self, method, url, body, timeout, plain_stream=False):
        try:
            response = self.client.request(method, self.client.base_url + url, data=body, stream=True,
                                           timeout=timeout,
                                           headers={"Content-Type": "application/json"} if body else None)
        except Exception as err:
            raise unavailable(err) from err
        return _SdkResponse(response)


class EngineAPI:
    """The Engine API calls amlocal makes."""

    def __init__(self, transport, timeout=API_TIMEOUT_SECONDS):
        self.transport = transport
        self.timeout = timeout

    def _request(self, method, path, body=None, query=None, stream=False, timeout=..., plain_stream=False):
        url = f"/{API_VERSION}{path}" + (f"?{urlencode(query)}" if query else "")
        response = self.transport.request(method, url, json.dumps(body) if body is not None else None,
                                          self.timeout if timeout is ... else timeout, plain_stream=plain_stream)
        if response.status >= 400:
            try:
                data = response.read()
            finally:
                response.close()
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
            response.close()
        return json.loads(data) if data.strip() and data[:1] in b"{[" else data

    # -- engine and images ---------------------------------------------------------------------
    def ping(self):
        self._request("GET", "/_ping")

    def inspect_image(self, name):
        """The image's description, or None when the engine has no such image."""
        try:
            return self._request("GET", f"/images/{quote(name, safe='')}/json")
        except NotFound:
            return None

    def image_id(self, name):
        image = self.inspect_image(name)
        return image["Id"] if image else None

    def list_images(self, reference=None, labels=()):
        filters = {}
        if reference:
            filters["reference"] = [reference]
        if labels:
            filters["label"] = list(labels)
        return self._request("GET", "/images/json", query={"filters": json.dumps(filters)} if filters else None)

    def remove_image(self, image_id):
        self._request("DELETE", f"/images/{quote(image_id, safe='')}")

    def pull(self, name, log):
        """Pull ``name``, writing the engine's progress lines to ``log``."""
        repository, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "latest")
        response = self._request("POST", "/images/create", query={"fromImage": repository, "tag": tag},
                                 stream=True, timeout=None)
        try:
            for line in _lines(response):
                event = json.loads(line)
                if "error" in event:
                    raise EngineError(500, event["error"])
                if event.get("status") and not event.get("progressDetail"):
                    log.write(f"{event.get('id', '')} {event['status']}".strip() + "\n")
        finally:
            response.close()

    # -- containers ------------------------------------------------------------------------------
    def create_container(self, config, name=None):
        return self._request("POST", "/containers/create", body=config, query={"name": name} if name else None)["Id"]

    def start(self, container_id):
        self._request("POST", f"/containers/{container_id}/start")

    def wait(self, container_id):
        """Block until the container exits; {"StatusCode": n, "Error": ...}."""
        return self._request("POST", f"/containers/{container_id}/wait", timeout=None)

    def logs(self, container_id, follow=True, tail=None):
        """The container's stdout and stderr as they come (bytes chunks), until it exits;
        ``tail``: only its last lines.

        The engine sends one frame per line it logged (2 million frames for 200 MB of short
        lines): asked as a plain stream, frames are parsed from whatever has arrived and their
        payloads given as one chunk (a frame at a time through HTTP chunks costs ~18 us each,
        ~36 s for that log)."""
        query = {"follow": int(follow), "stdout": 1, "stderr": 1}
        if tail is not None:
            query["tail"] = int(tail)
        response = self._request("GET", f"/containers/{container_id}/logs", query=query, stream=True, timeout=None,
                                 plain_stream=True)
        return _payloads(lambda: response.read1(LOG_READ_BYTES), response.close)

    def attach(self, container_id):
        """The output of a created, not yet started container, straight from its stdio as it
        runs (bytes chunks until it exits), or None when this engine connection cannot attach.
        Unlike ``logs`` it costs the engine no decoding of its log file: a 200 MB log comes
        about three times faster."""
        hijack = getattr(self.transport, "hijack", None)
        if hijack is None:
            return None
        return hijack(f"/{API_VERSION}/containers/{container_id}/attach?stream=1&stdout=1&stderr=1")

    def inspect_container(self, container_id):
        return self._request("GET", f"/containers/{container_id}/json")

    def list_containers(self, labels=(), all=True):
        filters = {"label": list(labels)} if labels else {}
        return self._request("GET", "/containers/json", query={"all": int(all), "filters": json.dumps(filters)})

    def kill(self, container_id):
        self._request("POST", f"/containers/{container_id}/kill")

    def stop(self, container_id, seconds):
        """SIGTERM, then SIGKILL after ``seconds``; returns once the container has stopped."""
        self._request("POST", f"/containers/{container_id}/stop", query={"t": int(seconds)},
                      timeout=self.timeout and self.timeout + seconds)

    def commit(self, container_id, repository, tag, changes):
        return self._request("POST", "/commit", query={"container": container_id, "repo": repository, "tag": tag,
                                                      "changes": "\n".join(changes)}, timeout=None)["Id"]

    def remove(self, container_id):
        self._request("DELETE", f"/containers/{container_id}", query={"force": 1, "v": 1})


def _payloads(read, close):
    """The payloads of the engine's multiplexed stream (8-byte headers: stream, size), as one
    chunk per block that ``read()`` returns, until it returns b""; ``close()`` at the end."""
    try:
        buffer = bytearray()
        while True:
            block = read()
            if not block:
                return
            buffer += block
            payloads, at = [], 0
            while len(buffer) - at >= 8:
                size = struct.unpack_from(">I", buffer, at + 4)[0]
                if len(buffer) - at - 8 < size:
                    break
                payloads.append(bytes(buffer[at + 8:at + 8 + size]))
                at += 8 + size
            del buffer[:at]
            if payloads:
                yield b"".join(payloads)
    except (OSError, http.client.HTTPException) as err:
        raise unavailable(err) from err
    finally:
        close()


class _Hijacked:
    """The socket of an upgraded (hijacked) HTTP connection, with what came after the headers;
    iterating gives the payloads of the engine's multiplexed stream, ``close`` lets it go."""

    def __init__(self, sock, early):
        self.sock = sock
        self.early = early

    def recv(self, size):
        if self.early:
            data, self.early = self.early, b""
            return data
        return self.sock.recv(size)

    def __iter__(self):
        return _payloads(lambda: self.recv(LOG_READ_BYTES), self.close)

    def close(self):
        self.sock.close()


def _lines(response):
    buffer = b""
    while True:
        chunk = response.read(65536)
        if not chunk:
            break
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield line
    if buffer.strip():
        yield buffer
