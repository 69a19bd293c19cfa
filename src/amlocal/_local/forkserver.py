"""Starting supervisors as forks of a ready process, for a process that starts many of them.

A sweep's controller starts a supervisor for every child it submits. A new Python process
costs its start and its imports (about 0.2 s of CPU, more on a busy machine) before it does
anything for its run, and it costs them on the sweep's critical path: a child that ends is
replaced only once its successor's supervisor is up. ``SupervisorForkServer`` is a copy of the
controller's process, forked before the controller opens the workspace's database (an SQLite
connection must never cross a fork) and before it starts any thread, with amlocal and the
run's backend already imported. Asked to start a supervisor, it forks a process that detaches
(its own session, its parent gone: as ``dispatch.spawn`` starts one) and runs the supervisor's
``main`` with the same arguments, its output appended to the run's supervisor log.

Nothing else changes: whoever starts a supervisor still takes the run's lock first and hands
it over, here as a descriptor passed over a socket (``SCM_RIGHTS``), so the run never looks
unfollowed; the started process holds it as any supervisor does, and outlives the controller
and this server. The server leaves when the controller closes its end of the socket or dies.
Whenever it cannot help (not Linux, the server gone), the caller starts a new process.
"""

import json
import os
import signal
import socket
import struct
import sys
import traceback

#: how long the controller waits for the server to say it started a supervisor
REPLY_SECONDS = 10.0
_HEADER = struct.Struct("!I")
MAX_DESCRIPTORS = 8

STARTED, FAILED = b"1", b"0"


class SupervisorForkServer:
    """``entry(argv)`` is the supervisor's ``main``; ``close`` are descriptors of the caller
    the server must not keep (the controller's own run lock: a server holding it would make a
    dead controller look alive)."""

    def __init__(self, entry, close=()):
        self.entry = entry
        self.close_in_server = tuple(close)
        self.pid = None
        self._socket = None

    @staticmethod
    def available():
        """Linux only: elsewhere (macOS) a fork of a process that has used system frameworks is
        not safe, and supervisors start as new processes."""
        return sys.platform.startswith("linux") and hasattr(os, "fork") and hasattr(socket, "send_fds")

    def start(self):
        """Fork the server. Returns self; ``spawn`` then works until ``stop``."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the server
            code = 0
            try:
                ours.close()
                for fd in self.close_in_server:
                    _close_quietly(fd)
                _serve(theirs, self.entry)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                _exit(code)
        theirs.close()
        self.pid, self._socket = pid, ours
        return self

    def spawn(self, arguments, log_path, cwd, descriptors):
        """Start ``main(arguments)`` in a detached fork holding ``descriptors`` (at whatever
        numbers: the arguments that name them are rewritten). True when it started, False when
        the server could not start it (the caller still holds the descriptors and starts a
        process of its own), None when that is unknown (the server went away meanwhile)."""
        if self._socket is None:
            return False
        request = json.dumps({"arguments": list(arguments), "log": str(log_path), "cwd": str(cwd),
                              "descriptors": list(descriptors)}).encode()
        try:
            socket.send_fds(self._socket, [_HEADER.pack(len(request)) + request], list(descriptors))
        except OSError:
            self.stop()
            return False
        try:
            self._socket.settimeout(REPLY_SECONDS)
            reply = self._socket.recv(1)
        except OSError:
            reply = b""
        if reply == STARTED:
            return True
        if reply == FAILED:
            return False
        self.stop()
        return None

    def stop(self):
        """Close the controller's end: the server leaves. Processes it started go on."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self.pid is not None:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = None


def _serve(connection, entry):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the controller's terminal is not ours to answer
    while True:
        received = _receive(connection)
        if received is None:
            return  # the controller closed its end, or died
        request, descriptors = received
        try:
            started = _fork_detached(connection, entry, request, descriptors)
        finally:
            for fd in descriptors:
                _close_quietly(fd)
        connection.sendall(STARTED if started else FAILED)


def _receive(connection):
    """One request and the descriptors sent with it, or None at the end of the stream."""
    message, descriptors, _, _ = socket.recv_fds(connection, 65536, MAX_DESCRIPTORS)
    if not message:
        for fd in descriptors:
            _close_quietly(fd)
        return None
    while len(message) < _HEADER.size or len(message) < _HEADER.size + _HEADER.unpack_from(message)[0]:
        more = connection.recv(65536)
        if not more:
            for fd in descriptors:
                _close_quietly(fd)
            return None
        message += more
    size = _HEADER.unpack_from(message)[0]
    return json.loads(message[_HEADER.size:_HEADER.size + size]), descriptors


def _fork_detached(connection, entry, request, descriptors):
    """Fork, detach and run the supervisor; True once the detached process exists."""
    if len(descriptors) != len(request["descriptors"]):
        return False
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        middle = os.fork()
    except OSError:
        traceback.print_exc()
        return False
    if middle == 0:  # a new session, and a grandchild whose parent is gone at once (no zombie left)
        code = 0
        try:
            os.setsid()
            if os.fork() == 0:
                _run_supervisor(connection, entry, request, descriptors)  # never returns
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            _exit(code)
    _, status = os.waitpid(middle, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _run_supervisor(connection, entry, request, descriptors):
    code = 0
    try:
        connection.close()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.chdir(request["cwd"])
        entry(_renumbered(request["arguments"], dict(zip(map(str, request["descriptors"]), map(str, descriptors)))))
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        _exit(code)


def _renumbered(arguments, numbers):
    """The arguments with each descriptor option (``--lock-fd N``) naming the descriptor as
    this process received it."""
    out = list(arguments)
    for index in range(1, len(out)):
        if out[index - 1].endswith("-fd") and out[index] in numbers:
            out[index] = numbers[out[index]]
    return out


def _close_quietly(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def _exit(code):
    """Leave without running the forked copy of the caller's cleanup (its ``finally`` blocks,
    ``atexit``): that is the caller's."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)
