"""Fixtures shared by every test: an isolated workspace per test, one shared environment cache,
the Docker engine for the tests that claim container behaviour (never mocked), and a network
guard.

The guard (autouse, every test): a socket ``connect``/``connect_ex`` from this process to an
AF_INET or AF_INET6 address that is not loopback raises ``NetworkAccessBlocked``, naming the
address; a test that tried (even if a library swallowed the error) fails at teardown. AF_UNIX
sockets (the Docker engine) and loopback stay allowed. Only tests marked ``azure_live`` run
without it. Environment builds download packages from the package index in subprocesses (pip,
and pip inside build containers): that is the package registry, outside this guard.
"""

import ipaddress
import json
import os
import socket
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))  # tests import ``support``
# Built venvs and downloaded wheels are reused across tests and sessions (images are the engine's).
os.environ.setdefault("AMLOCAL_CACHE", str(Path.home() / ".cache" / "amlocal-test"))


def write_config(directory, name="test-ws", **extra):
    config = {"subscription_id": "sub", "resource_group": "rg", "workspace_name": name, **extra}
    (Path(directory) / "config.json").write_text(json.dumps(config))


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A user's project directory, as in the Azure ML article: config.json, ./sklearn-iris with
    train_iris.py, ./data/iris/iris.csv; the workspace lives in its own AMLOCAL_HOME."""
    monkeypatch.setenv("AMLOCAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AMLOCAL_BACKEND", raising=False)
    directory = tmp_path / "project"
    (directory / "sklearn-iris").mkdir(parents=True)
    shutil.copy(REPO / "train_iris.py", directory / "sklearn-iris")
    shutil.copytree(REPO / "examples" / "iris" / "data", directory / "data")
    write_config(directory)
    monkeypatch.chdir(directory)
    return directory


def _docker_error():
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
        client.close()
        return None
    except Exception as err:
        return err


@pytest.fixture(scope="session")
def docker_engine():
    error = _docker_error()
    if error is not None:
        message = f"no Docker engine answers ({error}); `make test` starts one"
        if os.environ.get("AMLOCAL_REQUIRE_DOCKER") == "1":
            pytest.fail(message + " — AMLOCAL_REQUIRE_DOCKER=1 forbids skipping", pytrace=False)
        pytest.skip(message)
    import docker

    return docker.from_env()


@pytest.fixture(scope="session")
def base_image(docker_engine):
    """The base image every container test shares (AMLOCAL_BASE_IMAGE, set by `make test`)."""
    import docker

    for name in filter(None, [os.environ.get("AMLOCAL_BASE_IMAGE"), "python:3.11-slim", "amlocal-base:bookworm"]):
        try:
            docker_engine.images.get(name)
        except docker.errors.ImageNotFound:
            continue
        os.environ["AMLOCAL_BASE_IMAGE"] = name
        return name
    message = "no base image (python:3.11-slim or amlocal-base:bookworm); `make base-image` builds one"
    if os.environ.get("AMLOCAL_REQUIRE_DOCKER") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


class NetworkAccessBlocked(RuntimeError):
    """A test tried to open a network connection."""


def _allowed(family, address):
    if family not in (socket.AF_INET, socket.AF_INET6):
        return True
    host = address[0] if isinstance(address, tuple) else address
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:  # a host name: connecting would resolve and reach it
        return False


@pytest.fixture(autouse=True)
def network_guard(request, monkeypatch):
    if request.node.get_closest_marker("azure_live"):
        yield None
        return
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    attempts = []

    def check(sock, address):
        if not _allowed(sock.family, address):
            attempts.append(address)
            raise NetworkAccessBlocked(f"network access blocked in tests: connect to {address!r} "
                                       f"({socket.AddressFamily(sock.family).name})")

    def connect(sock, address):
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        check(sock, address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield attempts
    if attempts:  # also when a library caught the error: the test did try to go out
        pytest.fail(f"the test tried to reach the network: {attempts}", pytrace=False)
