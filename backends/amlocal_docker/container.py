"""``ContainerExecution``: one run's container, its output pumped into the driver log."""

import threading

from amlocal._local.backend import Execution, ExitInfo

from .engine import EngineError, unavailable


class ContainerExecution(Execution):
    """Two threads follow the container: one copies its output to the driver log as it comes,
    one waits for its exit. ``wait`` reports engine failures as BackendUnavailableError."""

    def __init__(self, api, container_id, driver_log, memory_limited):
        self.api = api
        self.container_id = container_id
        self.driver_log = driver_log
        self.memory_limited = memory_limited
        self._done = threading.Event()
        self._result = None
        self._error = None
        self._pump = threading.Thread(target=self._copy_logs, daemon=True)
        self._waiter = threading.Thread(target=self._wait_exit, daemon=True)
        self._pump.start()
        self._waiter.start()

    def _copy_logs(self):
        try:
            with open(self.driver_log, "ab") as log:
                for chunk in self.api.logs(self.container_id):
                    log.write(chunk)
                    log.flush()
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
        self._pump.join(5)
        code = self._result.get("StatusCode", 1)
        oom = False
        if code != 0:
            try:
                oom = bool(self.api.inspect_container(self.container_id)["State"].get("OOMKilled"))
            except (EngineError, Exception):
                oom = False
            oom = oom or (code == 137 and self.memory_limited)
        detail = (self._result.get("Error") or {}).get("Message") or ""
        return ExitInfo(code, oom_killed=oom, detail=detail)

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
