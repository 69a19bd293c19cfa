"""A run's warnings: what went wrong without failing it (a source link left out of the snapshot,
an environment built with another Python, a job event refused, an output not collected).

The run's supervisor adds them as they happen; ``get_details()["warnings"]`` lists them as Azure
ML lists a run's warnings (``{"source": ..., "message": ...}``), and ``wait_for_completion(
show_output=True)`` prints their messages under "Warnings:" in the execution summary, as the SDK
does. One JSON object a line, appended, at most ``MAX_WARNINGS`` a run.
"""

import json
import os

MAX_WARNINGS = 100
SOURCE = "amlocal"


class RunWarnings:
    def __init__(self, path):
        self.path = path
        self._count = None

    def add(self, message):
        if self._count is None:
            self._count = len(read_warnings(self.path))
        if self._count >= MAX_WARNINGS:
            return
        line = json.dumps({"source": SOURCE, "message": str(message)}) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
        self._count += 1


def read_warnings(path):
    """The run's warnings, oldest first ([] when it has none)."""
    try:
        with open(path, encoding="utf-8") as lines:
            found = []
            for line in lines:
                try:
                    warning = json.loads(line)
                except ValueError:  # a line cut short by a full disk
                    continue
                if isinstance(warning, dict) and isinstance(warning.get("message"), str):
                    found.append({"source": str(warning.get("source") or SOURCE), "message": warning["message"]})
            return found[:MAX_WARNINGS]
    except FileNotFoundError:
        return []
