"""gunicorn settings for a service's container: read by the inference server's gunicorn
(``GUNICORN_CMD_ARGS=--config <this file>``), never imported by amlocal itself. Standard library only.

The server (``azmlinfsrv``) binds 0.0.0.0 and has no option for another address. The container
shares the host's network (a published port goes through Docker's userland proxy, which costs
about a third of the throughput of small requests), so it must listen where amlocal says and
nowhere else:

- ``on_starting`` replaces the bind addresses with AMLOCAL_BINDS: the service port on the
  address the user chose (loopback by default) and a private health port on loopback.
- Every listener sets SO_REUSEPORT, so a new deployment of the service can listen on the same
  port while the old one still serves. A classic BPF program on the port's group picks which
  listener gets new connections: the old one (index 0) until the new server has loaded the
  entry script (``when_ready``), the newest (index 1) once it has (``post_worker_init``). The
  old one then drains what it accepted and is stopped: no request meets a closed port.
- ``post_worker_init`` caps request bodies (AMLOCAL_MAX_REQUEST_BYTES): a larger body gets a
  413 answer from the server's own error handler, and the worker keeps serving.
"""

import ctypes
import os
import socket
import struct

SO_ATTACH_REUSEPORT_CBPF = 51
BPF_RET_K = 0x06
OLD_LISTENER, NEW_LISTENER = 0, 1

reuse_port = True


def _steer(listener, index):
    """New connections to this port go to the group's listener ``index`` (or are spread by
    hash when there is no such listener)."""
    program = ctypes.create_string_buffer(struct.pack("HBBI", BPF_RET_K, 0, 0, index))
    listener.setsockopt(socket.SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF,
                        struct.pack("HP", 1, ctypes.addressof(program)))


def _service_listeners(listeners):
    port = int(os.environ["AMLOCAL_SERVICE_PORT"])
    return [listener for listener in listeners if listener.getsockname()[1] == port]


def on_starting(server):
    server.cfg.set("bind", os.environ["AMLOCAL_BINDS"].split(","))
    server.address = server.cfg.address


def when_ready(server):
    for listener in _service_listeners(server.LISTENERS):
        _steer(listener, OLD_LISTENER)


def post_worker_init(worker):
    worker.wsgi.config["MAX_CONTENT_LENGTH"] = int(os.environ["AMLOCAL_MAX_REQUEST_BYTES"])
    for listener in _service_listeners(worker.sockets):
        _steer(listener, NEW_LISTENER)
