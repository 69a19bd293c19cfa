"""The run history interface: what a run recorded (status timeline, metrics, tags, files, logs).

The local backends share one SQLite + files implementation (``amlocal._local.run_history``);
the Azure backend reads Azure ML's own run history through its adapter. Statuses and their
transitions are ``amlocal.rules.statuses``; the shapes ``get_metrics`` returns are
``amlocal.rules.metrics``.
"""

import abc


class RunHistory(abc.ABC):
    """Everything about runs that outlives the process that submitted them. Every method
    raises RunNotFoundError for an unknown run id and StoreError when the store cannot be read
    or written."""

    # -- runs ------------------------------------------------------------------------------
    @abc.abstractmethod
    def get_run(self, run_id):
        """The run's record as a dict: run_id, experiment, status, created, start_time,
        end_time (epoch seconds or None), script, arguments, compute_target, environment,
        error (None or {"message", "code", "log_tail"}), tags, properties, parent_run_id."""

    @abc.abstractmethod
    def list_runs(self, experiment=None, limit=None, tags=None, properties=None, parent_run_id=None):
        """Records of runs, newest first: of one experiment, carrying every tag/property
        filter (a list of keys or [key, value] pairs, or a dict), children of one parent."""

    @abc.abstractmethod
    def list_experiments(self):
        """Names of the experiments that have runs, sorted."""

    @abc.abstractmethod
    def status_timeline(self, run_id):
        """[(status, epoch seconds)] in the order the run went through them."""

    @abc.abstractmethod
    def start_run(self, experiment):
        """A new Running run logged from the calling process (``Experiment.start_logging``);
        returns its id."""

    @abc.abstractmethod
    def end_run(self, run_id, status, error=None):
        """End a run made by ``start_run`` with Completed or Failed (``error``: {"message",
        "code"}). No-op when the run already ended."""

    # -- metrics and tags ---------------------------------------------------------------------
    @abc.abstractmethod
    def log_metric(self, run_id, name, value, kind="scalar", step=None, description=""):
        """Record one metric value; ``kind`` is one of ``amlocal.rules.metrics.KINDS``."""

    @abc.abstractmethod
    def get_metrics(self, run_id, name=None, populate=False):
        """Metrics shaped as azureml returns them (``amlocal.rules.metrics.aggregate``)."""

    @abc.abstractmethod
    def set_tags(self, run_id, tags):
        """Merge ``tags`` (str -> str or None) into the run's tags."""

    @abc.abstractmethod
    def get_tags(self, run_id):
        """The run's tags as a dict."""

    # -- files and logs -------------------------------------------------------------------------
    @abc.abstractmethod
    def list_files(self, run_id):
        """Sorted names of the files in run history ("outputs/model.joblib", "azureml-logs/...")."""

    @abc.abstractmethod
    def download_file(self, run_id, name, output_file_path):
        """Copy one run file to ``output_file_path`` (a file, or a directory to put it in);
        returns the path written. Raises RunError listing the files when ``name`` is absent."""

    @abc.abstractmethod
    def upload_file(self, run_id, name, path_or_stream):
        """Add a file to the run's history under ``name`` (a relative run-file name)."""

    @abc.abstractmethod
    def read_log(self, run_id, name, offset=0, final=False, max_bytes=None):
        """Return (text, new_offset) of log ``name`` from byte ``offset``: whole lines only, so a
        reader never splits a line, unless ``final`` (the run has ended: the rest, newline or
        not). ("", offset) when nothing new or the log does not exist yet. Never blocks.
        ``max_bytes`` caps what one call reads (call again from the new offset for the rest);
        a line longer than that comes in pieces of whole characters (``log_chunk``)."""

    @abc.abstractmethod
    def log_names(self, run_id):
        """Names of the run's logs in the order they are written."""

    def streamed_log_names(self, run_id):
        """The logs ``wait_for_completion(show_output=True)`` streams, one after another: each
        must be complete once the next one has begun."""
        return self.log_names(run_id)

    # -- reads for browsing (the studio, ``run list`` columns); optional for a backend -------------
    # Each has a plain default so an implementation that cannot serve it says so in one place.

    def metric_rows(self, run_id, name=None):
        """Every value logged to the run (of metric ``name`` when given), in the order logged, as
        dicts: name, kind (as ``log_metric``), value (as logged), step (None when not given),
        time (epoch seconds), description. Raises NotImplementedError where the run history
        keeps no raw rows."""
        raise NotImplementedError(f"{type(self).__name__} does not give raw metric rows.")

    def metric_names(self, run_id):
        """[{name, kind, count}] for each metric of the run, in the order first logged (``kind``
        of its last value): what a page lists before it reads any long series."""
        summary = {}
        for row in self.metric_rows(run_id):
            entry = summary.setdefault(row["name"], {"name": row["name"], "kind": row["kind"], "count": 0})
            entry["kind"] = row["kind"]
            entry["count"] += 1
        return list(summary.values())

    def scalar_points(self, run_id, name):
        """[(step, value)] of the scalar values of metric ``name``, in the order logged (step None
        where none was given): the one long read a chart needs, without the other columns."""
        return [(row["step"], row["value"]) for row in self.metric_rows(run_id, name) if row["kind"] == "scalar"]

    def runs_with_metrics(self, experiment=None, limit=None, run_ids=None):
        """``list_runs`` records (newest first, of one experiment or of the given ``run_ids``),
        each with ``tags`` (dict) and ``metrics``: {name: the last value logged} of its scalar
        metrics. One read for the whole table, however many runs."""
        raise NotImplementedError(f"{type(self).__name__} does not list runs with their metrics.")

    def child_runs(self, run_id):
        """``list_runs`` records of the runs whose parent is ``run_id`` (a sweep's trials),
        oldest first; [] when the run has none."""
        return list(reversed(self.list_runs(parent_run_id=run_id)))

    def list_snapshot_files(self, run_id):
        """Sorted names of the files in the run's snapshot (its source directory as submitted);
        [] where the history keeps no snapshot."""
        return []

    def open_file(self, run_id, name, snapshot=False):
        """A binary file object (seekable) of one run file, or of a snapshot file; the caller
        closes it. Raises RunError, as ``download_file`` does, when there is no such file."""
        import tempfile

        if snapshot:
            raise NotImplementedError(f"{type(self).__name__} keeps no snapshot files.")
        with tempfile.TemporaryDirectory() as scratch:
            path = self.download_file(run_id, name, f"{scratch}/file")
            handle = tempfile.TemporaryFile()
            with open(path, "rb") as source:
                while chunk := source.read(1 << 20):
                    handle.write(chunk)
        handle.seek(0)
        return handle


def log_chunk(data, final, max_bytes=None):
    """How many bytes of ``data`` (read from a log, at most ``max_bytes`` when set) a reader
    takes: up to the last newline, everything when ``final``; when a capped read holds no
    newline at all (one long line), as much as ends on a whole UTF-8 character."""
    end = len(data) if final else data.rfind(b"\n") + 1
    if end == 0 and max_bytes and len(data) >= max_bytes:
        end = len(data)
        for back in range(1, min(4, len(data)) + 1):
            byte = data[-back]
            if byte & 0xC0 != 0x80:  # ASCII or the first byte of a character
                size = 1 if byte < 0x80 else 2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110 else 4
                end = len(data) if size <= back else len(data) - back
                break
    return end
