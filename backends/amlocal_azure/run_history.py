"""The part of amlocal's RunHistory over an Azure ML adapter that does not depend on the SDK.

Shapes are those of the local run history, so user code sees the same values on either side:
amlocal's error dict (``normalise_error``), runs filtered by tags and properties as the local
history filters them (``matching_runs``), sorted file names, a missing file named with the
files there are, logs read by byte offset in whole lines (``whole_lines``, what
``wait_for_completion(show_output=True)`` streams).

``AdapterRunHistory`` is the base of both backends' histories: a subclass sets ``sdk_errors``
(its guard, ``errors.sdk_errors``) and ``kind`` (what its service calls a run, as the
messages say it), and implements the two calls that differ by SDK, ``_file_names`` and
``_download``.
"""

from pathlib import Path

from amlocal.exceptions import RunError
from amlocal.rules import filters
from amlocal.rules.statuses import run_error
from amlocal.stores import RunHistory
from amlocal.stores.run_history import log_chunk

#: Lines of a failed run's log its error shows.
LOG_TAIL_LINES = 30


def normalise_error(raw, log_tail=None):
    """Azure's error ({"code", "message", ...}, possibly wrapped in {"error": ...}) as amlocal's
    (``amlocal.rules.statuses.run_error``), Azure's own fields kept under "error"
    (messageFormat, innerError, ...); None when there is none."""
    if not raw:
        return None
    inner = raw.get("error") if isinstance(raw.get("error"), dict) else raw
    error = run_error(inner.get("message") or str(inner), inner.get("code"), log_tail)
    error["error"] = {**inner, **error["error"]}
    return error


def last_lines(text, lines=LOG_TAIL_LINES):
    return "".join(text.splitlines(keepends=True)[-lines:])


def whole_lines(data, offset, final=False, max_bytes=None):
    """(text, next offset) of ``data``, the bytes of a log from byte ``offset`` on, at most
    ``max_bytes`` of them: whole lines only, as the local history reads them
    (``amlocal.stores.run_history.log_chunk``), unless the log is ``final``."""
    if max_bytes:
        data = data[:max_bytes]
    end = log_chunk(data, final, max_bytes)
    return data[:end].decode("utf-8", "replace"), offset + end


def matching_runs(records, tags=None, properties=None, parent_run_id=None):
    """The run records that have every tag and property asked for (``amlocal.rules.filters``, as
    the local history filters) and, when given, that parent."""
    tag_pairs, property_pairs = filters.run_filter_pairs(tags), filters.run_filter_pairs(properties)
    return [r for r in records if filters.matches(r.get("tags") or {}, tag_pairs)
            and filters.matches(r.get("properties") or {}, property_pairs)
            and (parent_run_id is None or r.get("parent_run_id") == parent_run_id)]


class AdapterRunHistory(RunHistory):
    #: the backend's guard around SDK calls (``errors.sdk_errors``)
    sdk_errors = None
    #: what the service calls a run ("run" in SDK v1, "job" in SDK v2)
    kind = "run"

    def __init__(self, adapter, backend_name):
        self.adapter = adapter
        self.backend_name = backend_name

    def _guard(self, action, run_id=None):
        return type(self).sdk_errors(action, **({"run_id": run_id} if run_id else {}))

    def _file_names(self, run_id):
        """The names of the run's files, as the adapter lists them."""
        raise NotImplementedError

    def _download(self, run_id, name, target):
        """Write the run's file ``name`` to ``target`` (a file path)."""
        raise NotImplementedError

    def list_experiments(self):
        with self._guard("list experiments"):
            return list(self.adapter.list_experiments())

    def get_tags(self, run_id):
        with self._guard(f"get the {self.kind}'s tags", run_id):
            return dict(self.adapter.get_tags(run_id))

    def list_files(self, run_id):
        with self._guard(f"list the {self.kind}'s files", run_id):
            return sorted(self._file_names(run_id))

    def download_file(self, run_id, name, output_file_path):
        files = self.list_files(run_id)
        if name not in files:
            raise RunError(f"Run {run_id} has no file {name!r}. Its files: {', '.join(files) or '(none)'}")
        target = Path(output_file_path)
        if target.is_dir():
            target = target / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._guard(f"download a {self.kind} file", run_id):
            self._download(run_id, name, str(target))
        return str(target)

    def log_names(self, run_id):
        with self._guard(f"list the {self.kind}'s logs", run_id):
            return list(self.adapter.log_names(run_id))
