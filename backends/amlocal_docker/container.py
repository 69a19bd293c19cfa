"""``ContainerExecution``: one run's container, its output pumped into the driver log."""

import os
import threading

from amlocal.local import Execution, ExitInfo

from .engine import EngineError, NotFound, unavailable

#: how long the log pump may lag behind the container's exit before its logs are re-read
PUMP_DRAIN_SECONDS = 600


class ContainerExecution(Execution):
    """Two threads follow the container: one copies its output to the driver log as it comes,
    one waits for its exit. ``wait`` returns only once every byte the job printed is in the
    driver log. ``skip_bytes``: output already copied by a previous process (adoption).
    ``output``: the container's attached output (``EngineAPI.attach``, taken before it
    started), else its logs are followed."""

    def __init__(self, api, container_id, driver_log, skip_bytes=0, output=None):
        self.api = api
        self._output = output
        self.container_id = container_id
        self.handle = {"container_id": container_id}
        self.driver_log = driver_log
        self._copied = 0
        self._skip = skip_bytes
        self._done = threading.Event()
        self._result = None
        self._error = None
        self._pump = threading.Thread(target=self._copy_logs, daemon=True)
        self._waiter = threading.Thread(target=self._wait_exit, daemon=True)
        self._pump.start()
        self._waiter.start()

    def _write(self, log, chunk):
        """Append what of ``chunk`` lies past the bytes already in the driver log."""
        start = max(0, self._skip - self._copied)
        self._copied += len(chunk)
        if start < len(chunk):
            log.write(chunk[start:])
            log.flush()

    def _copy_logs(self):
        try:
            with open(self.driver_log, "ab") as log:
                for chunk in self._output if self._output is not None else self.api.logs(self.container_id):
                    self._write(log, chunk)
        except Exception as err:  # the waiter reports engine failures; keep what was copied
            with open(self.driver_log, "ab") as log:
                log.write(f"\n[amlocal] log streaming stopped: {err}\n".encode())

    def _wait_exit(self):
        try:
            self._result = self.api.wait(self.container_id)
        except Exception as err:
            self._error = err
        self._done.set()

    def wait(self, timeout):
        if not self._done.wait(timeout):
            return None
        if self._error is not None:
            raise unavailable(f"the engine stopped answering while the job ran: {self._error}")
        self._pump.join(PUMP_DRAIN_SECONDS)
        if self._pump.is_alive():  # the follow stream never closed: read what is left once
            self._skip, self._copied = self._copied, 0
            with open(self.driver_log, "ab") as log:
                for chunk in self.api.logs(self.container_id, follow=False):
                    self._write(log, chunk)
        code = self._result.get("StatusCode", 1)
        state = {}
        if code != 0:
            try:
                state = self.api.inspect_container(self.container_id)["State"]
            except EngineError:
                state = {}
        return ExitInfo(code, oom_killed=bool(state.get("OOMKilled")), detail=_exit_detail(code, state, self._result))

    def stop(self):
        try:
            self.api.kill(self.container_id)
        except Exception:  # already exited, or the engine is gone: either way it is not running
            pass

    def cleanup(self):
        try:
            self.api.remove(self.container_id)
        except Exception:
            pass


def attach(api, handle, driver_log):
    """The execution of an existing container (a dead supervisor's job), or None when it is gone."""
    container_id = handle.get("container_id")
    if not container_id:
        return None
    try:
        api.inspect_container(container_id)
    except NotFound:
        return None
    size = os.path.getsize(driver_log) if os.path.exists(driver_log) else 0
    return ContainerExecution(api, container_id, driver_log, skip_bytes=size)


def _exit_detail(code, state, result):
    message = (result.get("Error") or {}).get("Message") or state.get("Error") or ""
    if code == 137 and not state.get("OOMKilled"):
        return ("The job was killed by SIGKILL from outside the run (`docker kill`, the Docker engine stopping, or "
                "the host running out of memory)." + (f" {message}" if message else ""))
    if code > 128 and code - 128 in (2, 15):
        return f"The job was stopped by signal {code - 128} (SIGINT/SIGTERM)." + (f" {message}" if message else "")
    return message
