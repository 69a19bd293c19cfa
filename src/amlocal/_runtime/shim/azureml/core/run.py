"""``azureml.core.run.Run`` for training scripts that amlocal runs locally.

Pure standard library, Python 3.8+, and no import of amlocal: this file runs inside the
job's own interpreter. Inside a local run (``AMLOCAL_RUN_CONTROL`` set) everything the
script logs, tags or uploads is appended as an event to
``$AMLOCAL_RUN_CONTROL/events.jsonl``; the host ingests those into run history. The event
protocol is documented in ``amlocal._runtime``.

In a job submitted to Azure ML through SDK v2 (the ``azureml-v2`` backend), events go to the
job's MLflow run instead (``_mlflow_sink``).

Otherwise, without ``AMLOCAL_RUN_CONTROL``, ``Run.get_context()`` returns an offline run, as the real
SDK does outside a submitted run: its ``log*`` methods print what they were asked to log,
uploads are silent no-ops and tags are only kept in memory.
"""

import io
import json
import os
import shutil
import threading
import time
import uuid

try:
    from amlocal_rules import metrics as _metric_rules, models as _model_rules
except ImportError:  # on the host, outside a job: the same rules, from amlocal itself
    from amlocal.rules import metrics as _metric_rules, models as _model_rules

ENV_RUN_CONTROL = "AMLOCAL_RUN_CONTROL"
ENV_RUN_ID = "AMLOCAL_RUN_ID"
ENV_EXPERIMENT_NAME = "AMLOCAL_EXPERIMENT_NAME"
EVENTS_FILE = "events.jsonl"
UPLOADS_DIR = "uploads"
_PARTIAL_DIR = ".partial"  # uploads being written; moved into UPLOADS_DIR when complete

__all__ = ["Experiment", "Run"]


# -- value encoding ----------------------------------------------------------------------

def _jsonable(obj):
    """``json`` fallback: ``obj.tolist()``, else ``obj.item()``, else ``str(obj)``."""
    for attr in ("tolist", "item"):
        method = getattr(obj, attr, None)
        if callable(method):
            try:
                return method()
            except Exception:
                pass
    return str(obj)


def _dumps(value):
    return json.dumps(value, allow_nan=True, default=_jsonable, separators=(",", ":"))


def _normalise(value):
    """A JSON-shaped copy of ``value`` (numpy arrays become lists, tuples lists, ...)."""
    return json.loads(_dumps(value))


def _scalar(value):
    """Plain Python value of a scalar: numpy/torch scalars go through ``.item()``."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except Exception:
            pass
    return value


def _artifact_name(name):
    """Normalise a run file name to a relative '/'-separated path.

    Backslashes count as separators, empty and '.' parts are dropped. Raises ValueError for
    empty or absolute names and for names with a '..' part.
    """
    text = os.fspath(name)
    if not isinstance(text, str) or not text:
        raise ValueError("a run file name must be a non-empty string, got {!r}".format(name))
    text = text.replace("\\", "/")
    if text.startswith("/") or os.path.isabs(text) or os.path.splitdrive(text)[0]:
        raise ValueError("a run file name must be relative, got {!r}".format(name))
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        raise ValueError("a run file name must not contain '..', got {!r}".format(name))
    return "/".join(parts)


def _copy_into(source, out):
    """Copy a path (str, bytes, PathLike) or a binary/text stream into binary file ``out``."""
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        with open(source, "rb") as f:
            shutil.copyfileobj(f, out)
    elif callable(getattr(source, "read", None)):
        while True:
            chunk = source.read(1 << 20)
            if not chunk:
                break
            out.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
    else:
        raise TypeError("path_or_stream must be a file path or a readable stream, got {!r}"
                        .format(type(source).__name__))


def _describe_error(error_details):
    if error_details is None:
        return None
    if isinstance(error_details, BaseException):
        return "{}: {}".format(type(error_details).__name__, error_details)
    return str(error_details)


def _job_sink():
    """The MLflow sink when this process is an Azure ML (SDK v2) job (``_mlflow_sink.wanted``),
    else None. The sibling module is loaded by path: this file is also loaded on its own."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_mlflow_sink.py")
    spec = importlib.util.spec_from_file_location("_amlocal_mlflow_sink", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MlflowSink.for_job() if module.wanted(os.environ) else None


# -- the classes --------------------------------------------------------------------------

class Experiment(object):
    """The experiment of a run. Only ``name`` is known locally; ``workspace`` is None."""

    def __init__(self, workspace, name, **kwargs):
        self.workspace = workspace
        self.name = name

    def __repr__(self):
        return "Experiment(Name: {})".format(self.name)


class Run(object):
    """A run seen from inside the training script (the subset of SDK v1 ``Run`` jobs use).

    Get it with ``Run.get_context()``. Online (inside a local run) it appends events to the
    control directory; offline it prints and keeps state in memory only. Either way
    ``get_tags`` and ``get_metrics`` return what this process recorded.
    """

    _context = None
    _context_lock = threading.Lock()

    def __init__(self, experiment, run_id, outputs=None, **kwargs):
        """Not for scripts: use ``Run.get_context()``. ``_control_dir`` (keyword) makes the
        run online, writing to that directory; without it the run is offline."""
        self._experiment = experiment
        self._run_id = run_id
        self._control_dir = kwargs.get("_control_dir")
        self._sink = kwargs.get("_sink")  # e.g. _mlflow_sink.MlflowSink in an Azure ML (SDK v2) job
        self._lock = threading.RLock()
        self._tags = {}
        self._metric_rows = []  # (name, type, normalised value) in logging order
        self._upload_names = set()
        if self._control_dir is not None:
            os.makedirs(self._control_dir, exist_ok=True)

    # -- context ------------------------------------------------------------------------
    @classmethod
    def get_context(cls, allow_offline=True, used_for_context_manager=False, **kwargs):
        """The run this process belongs to: one cached Run per process.

        Inside a local run (``AMLOCAL_RUN_CONTROL`` set) an online run with the id and
        experiment name from ``AMLOCAL_RUN_ID`` / ``AMLOCAL_EXPERIMENT_NAME``; otherwise an
        offline run ("OfflineRun_<uuid>"), or RuntimeError when ``allow_offline`` is False.
        """
        with Run._context_lock:
            if Run._context is None:
                Run._context = cls._from_environment()
            run = Run._context
        if run._offline and not allow_offline:
            raise RuntimeError(
                "No run context: this script is not running as a submitted run "
                "({} is not set) and Run.get_context() was called with allow_offline=False. "
                "Submit it as a run, or call Run.get_context() to get an offline run."
                .format(ENV_RUN_CONTROL))
        return run

    @classmethod
    def _from_environment(cls):
        control = os.environ.get(ENV_RUN_CONTROL)
        if not control:
            name = os.environ.get(ENV_EXPERIMENT_NAME) or "offline"
            sink = _job_sink()
            if sink is not None:
                run_id = os.environ.get("MLFLOW_RUN_ID") or os.environ.get(ENV_RUN_ID)
                name = os.environ.get(ENV_EXPERIMENT_NAME) or os.environ.get("MLFLOW_EXPERIMENT_NAME") or "Default"
                return cls(Experiment(None, name), run_id, _sink=sink)
            return cls(Experiment(None, name), "OfflineRun_{}".format(uuid.uuid4()))
        run_id = os.environ.get(ENV_RUN_ID) or "LocalRun_{}".format(uuid.uuid4())
        name = os.environ.get(ENV_EXPERIMENT_NAME) or "Default"
        return cls(Experiment(None, name), run_id, _control_dir=control)

    @property
    def _offline(self):
        return self._control_dir is None and self._sink is None

    @property
    def id(self):
        """The run id."""
        return self._run_id

    @property
    def experiment(self):
        """The run's Experiment (``.name``)."""
        return self._experiment

    @property
    def parent(self):
        """Always None: local runs have no parent run."""
        return None

    def get_status(self):
        """Always "Running": a run asked from inside is running."""
        return "Running"

    def __repr__(self):
        return "Run(Experiment: {}, Id: {}, Status: Running)".format(self._experiment.name,
                                                                    self._run_id)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_type is None:
            self.complete()
        else:
            self.fail(error_details=exc_value)
        return False

    # -- events -------------------------------------------------------------------------
    def _emit(self, kind, **fields):
        """Append one event line with a single os.write on an O_APPEND descriptor (or hand the
        event to the sink)."""
        if self._sink is not None:
            self._sink.event(kind, fields)
            return
        event = {"kind": kind, "time": time.time()}
        event.update(fields)
        data = (_dumps(event) + "\n").encode("utf-8")
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
        fd = os.open(os.path.join(self._control_dir, EVENTS_FILE), flags, 0o600)
        try:
            written = os.write(fd, data)
            while written < len(data):  # not expected for regular files; never drop data
                written += os.write(fd, data[written:])
        finally:
            os.close(fd)

    def _metric(self, kind, name, value, description, step=None):
        name = str(name)
        value = _normalise(value)
        with self._lock:
            self._metric_rows.append((name, kind, value))
        if self._offline:
            print("Attempted to log {} metric {}:\n{}".format(kind, name, value))
            return
        self._emit("metric", name=name, type=kind, value=value, step=step,
                   description="" if description is None else str(description))

    # -- metrics ------------------------------------------------------------------------
    def log(self, name, value, description='', step=None):
        """Log a scalar (number, string or bool); numpy scalars are converted with .item()."""
        step = None if step is None else int(_scalar(step))
        self._metric("scalar", name, _scalar(value), description, step)

    def log_list(self, name, value, description=''):
        """Log a list of values (any iterable; arrays via .tolist())."""
        tolist = getattr(value, "tolist", None)
        self._metric("list", name, tolist() if callable(tolist) else list(value), description)

    def log_row(self, name, description=None, **kwargs):
        """Log one row of a table metric: the keyword arguments, column -> value."""
        self._metric("row", name, dict(kwargs), description)

    def log_table(self, name, value, description=''):
        """Log a table: a dict of column name -> list of values."""
        self._metric("table", name, dict(value), description)

    def log_confusion_matrix(self, name, value, description=''):
        """Log a confusion matrix: a JSON string or a JSON-able object, recorded as given."""
        self._metric("confusion_matrix", name, value, description)

    def log_image(self, name, path=None, plot=None, description=''):
        """Log an image from a file ``path`` or a matplotlib ``plot`` (pyplot or figure).

        The image is uploaded as ``<name>_<epoch ms><ext>`` (ext: the file's own extension,
        ".png" for plots), then an image metric naming that upload is logged.
        """
        if (path is None) == (plot is None):
            raise ValueError("log_image needs exactly one of path and plot")
        if self._offline:
            print("Attempted to log image metric {}:\n{}".format(name, path if plot is None
                                                                 else plot))
            return
        ext = ".png"
        if path is not None:
            ext = os.path.splitext(os.fspath(path))[1] or ext
            if isinstance(ext, bytes):
                ext = ext.decode("utf-8", "replace")
        stamp = int(time.time() * 1000)
        with self._lock:
            artifact = _artifact_name("{}_{}{}".format(name, stamp, ext))
            while artifact in self._upload_names:  # two images of one name in one millisecond
                stamp += 1
                artifact = _artifact_name("{}_{}{}".format(name, stamp, ext))
            self._upload_names.add(artifact)
        source = path
        if plot is not None:
            source = io.BytesIO()
            plot.savefig(source, format="png")
            source.seek(0)
        self.upload_file(artifact, source)
        self._metric("image", name, {"artifact": artifact}, description)

    def get_metrics(self, name=None, recursive=False, run_type=None, populate=False):
        """What this process logged, shaped as the SDK's ``get_metrics`` shapes it (the rules
        are ``amlocal_rules.metrics``, the same the host applies to run history)."""
        with self._lock:
            rows = [row for row in self._metric_rows if name is None or row[0] == name]
        return _metric_rules.aggregate(rows, self._run_id, populate)

    # -- tags ---------------------------------------------------------------------------
    def tag(self, key, value=None):
        """Set a tag; the value is kept as a string (None stays None), as run history keeps it."""
        (key, value), = _model_rules.string_tags({key: value}).items()
        with self._lock:
            self._tags[key] = value
        if not self._offline:
            self._emit("tag", key=key, value=value)

    def set_tags(self, tags):
        """Set several tags: a dict key -> value (or an iterable of keys, valued None)."""
        items = tags.items() if hasattr(tags, "items") else ((key, None) for key in tags)
        for key, value in items:
            self.tag(key, value)

    def get_tags(self):
        """The tags set by this process so far."""
        with self._lock:
            return dict(self._tags)

    # -- files --------------------------------------------------------------------------
    def upload_file(self, name, path_or_stream, datastore_name=None):
        """Add a file to the run under ``name`` (relative, '/'-separated; ValueError for an
        absolute name or one with '..') from a path or a binary/text stream. Returns None.

        The content is complete under ``uploads/`` before the upload event is written.
        """
        artifact = _artifact_name(name)
        if self._offline:
            return None
        if self._sink is not None:
            self._sink.upload(artifact, path_or_stream)
            with self._lock:
                self._upload_names.add(artifact)
            return None
        target = os.path.join(self._control_dir, UPLOADS_DIR, *artifact.split("/"))
        partial_dir = os.path.join(self._control_dir, _PARTIAL_DIR)
        os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
        os.makedirs(partial_dir, mode=0o700, exist_ok=True)
        partial = os.path.join(partial_dir, uuid.uuid4().hex)
        try:
            with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
                _copy_into(path_or_stream, out)
            os.replace(partial, target)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        with self._lock:
            self._upload_names.add(artifact)
        self._emit("upload", name=artifact, path="{}/{}".format(UPLOADS_DIR, artifact))
        return None

    def upload_files(self, names, paths, return_artifacts=False, timeout_seconds=None,
                     datastore_name=None):
        """Upload ``paths[i]`` as ``names[i]``. All names are checked before any upload.
        Returns the normalised names when ``return_artifacts``, else None."""
        names, paths = list(names), list(paths)
        if len(names) != len(paths):
            raise ValueError("names and paths differ in length ({} and {})"
                             .format(len(names), len(paths)))
        artifacts = [_artifact_name(name) for name in names]
        for artifact, path in zip(artifacts, paths):
            self.upload_file(artifact, path)
        return artifacts if return_artifacts else None

    def upload_folder(self, name, path, datastore_name=None):
        """Upload every file under directory ``path`` as ``<name>/<relative path>``
        (``name`` "" or "." uploads them at the top). Returns None."""
        if not os.path.isdir(path):
            raise ValueError("upload_folder: {!r} is not a directory".format(path))
        prefix = "" if name in ("", ".") else _artifact_name(name) + "/"
        names, paths = [], []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for filename in sorted(files):
                full = os.path.join(root, filename)
                names.append(prefix + os.path.relpath(full, path).replace(os.sep, "/"))
                paths.append(full)
        self.upload_files(names, paths)
        return None

    # -- lifecycle ----------------------------------------------------------------------
    def flush(self, timeout_seconds=300):
        """Send what the sink still holds; otherwise a no-op (every event is written when logged)."""
        if self._sink is not None:
            self._sink.flush()

    def complete(self, _set_status=True):
        """Record a "Completed" status event (nothing offline or when not _set_status)."""
        if _set_status and not self._offline:
            self._emit("status", status="Completed", error=None, error_code=None)

    def fail(self, error_details=None, error_code=None, _set_status=True):
        """Record a "Failed" status event with the error text (an exception becomes
        "Type: message") and code. Nothing offline or when not _set_status."""
        if _set_status and not self._offline:
            self._emit("status", status="Failed", error=_describe_error(error_details),
                       error_code=None if error_code is None else str(error_code))
