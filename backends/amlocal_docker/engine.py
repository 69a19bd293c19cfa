"""Connecting to the Docker engine, with its failures turned into amlocal errors."""

import os

from amlocal.exceptions import BackendUnavailableError

PING_TIMEOUT_SECONDS = 3
API_TIMEOUT_SECONDS = 120


def engine_address():
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def connect(timeout=API_TIMEOUT_SECONDS):
    """A docker client; ``timeout=None`` for calls that block as long as a job runs."""
    try:
        import docker
    except ImportError as err:
        raise BackendUnavailableError("The docker backend needs the Docker SDK for Python: pip install docker") from err
    try:
        return docker.from_env(timeout=timeout)
    except docker.errors.DockerException as err:
        raise unavailable(err) from err


def unavailable(err):
    return BackendUnavailableError(
        f"No Docker engine answers at {engine_address()} ({err}). Start one (`dockerd &`, or "
        "`systemctl start docker`; `make docker` installs and starts it on Debian), or use the process "
        "backend: AMLOCAL_BACKEND=process.")


def ping():
    """None when an engine answers, else the error."""
    try:
        client = connect(PING_TIMEOUT_SECONDS)
        client.ping()
        client.close()
        return None
    except Exception as err:  # any failure to talk means "not available"
        return err
