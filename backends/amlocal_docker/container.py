"""``ContainerExecution``: one run's container, its output pumped into the driver log."""

import threading

from amlocal._local.backend import Execution, ExitInfo

from .engine import unavailable


class ContainerExecution(Execution):
    """Two threads follow the container: one copies its output to the driver log as it comes,
    one waits for its exit. ``wait`` reports engine failures as BackendUnavailableError."""

    def __init__(self, container, driver_log):
        self.container = container
        self.driver_log = driver_log
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
                for chunk in self.container.logs(stream=True, follow=True):
                    log.write(chunk)
                    log.flush()
        except Exception as err:  # the waiter reports engine failures; keep what was copied
            with open(self.driver_log, "ab") as log:
                log.write(f"\n[amlocal] log streaming stopped: {err}\n".encode())

    def _wait_exit(self):
        try:
            self._result = self.container.wait()
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
                self.container.reload()
                oom = bool(self.container.attrs["State"].get("OOMKilled"))
            except Exception:
                pass
        detail = (self._result.get("Error") or {}).get("Message") or ""
        return ExitInfo(code, oom_killed=oom or code == 137 and self._memory_limited(), detail=detail)

    def _memory_limited(self):
        try:
            return bool(self.container.attrs["HostConfig"].get("Memory"))
        except Exception:
            return False

    def stop(self):
        try:
            self.container.kill()
        except Exception:
            pass

    def cleanup(self):
        try:
            self.container.remove(force=True)
        except Exception:
            pass
