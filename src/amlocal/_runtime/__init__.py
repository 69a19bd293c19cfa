"""The in-job runtime: what lets an unmodified Azure ML (SDK v1) training script run locally.

``SHIM_DIR`` is a directory holding a tiny pure-stdlib package ``azureml`` (with
``azureml.core`` and ``azureml.core.run``). The backend puts it first on the job's
PYTHONPATH, so ``from azureml.core.run import Run`` and ``from azureml.core import Run``
resolve to the shim. The shim never imports amlocal and runs on Python 3.8+. Its packages
use ``pkgutil.extend_path``, so when the real SDK is installed in the job's environment
its other modules (``azureml.core.conda_dependencies``, ``azureml.train``, ...) still import.

Protocol between the job and the host
-------------------------------------
The backend sets, in the job's environment:

* ``AMLOCAL_RUN_CONTROL``: a directory the job can write (the "control directory");
* ``AMLOCAL_RUN_ID``: the run id that ``run.id`` returns;
* ``AMLOCAL_EXPERIMENT_NAME``: the name that ``run.experiment.name`` returns.

Without ``AMLOCAL_RUN_CONTROL``, ``Run.get_context()`` gives an offline run that prints
what it was asked to log, as the real SDK does outside a submitted run.

The job appends events to ``<control>/events.jsonl`` (``EVENTS_FILE``): one JSON object
per line, each line written by a single ``os.write`` on a descriptor opened with
``O_APPEND | O_CREAT``, so lines from concurrent writers never interleave and a line is
either complete or absent. The encoding is Python's ``json`` with ``allow_nan=True``:
NaN and infinities appear as ``NaN``, ``Infinity`` and ``-Infinity``, which ``json.loads``
reads back. Every event has ``"time"`` (float, epoch seconds) and ``"kind"``:

``metric``
    ``{"kind": "metric", "name": str, "type": T, "value": V, "step": int | null,
    "description": str}`` where T and V are

    - ``"scalar"`` (``run.log``): a number, string or bool; numpy/torch scalars are
      converted with ``.item()``; only ``run.log`` may set ``step``, all others give null;
    - ``"list"`` (``run.log_list``): a list;
    - ``"row"`` (``run.log_row``): a dict, column -> value, of the keyword arguments;
    - ``"table"`` (``run.log_table``): a dict, column -> list;
    - ``"image"`` (``run.log_image``): ``{"artifact": "<upload name>"}``, naming the upload
      event emitted just before it;
    - ``"confusion_matrix"`` (``run.log_confusion_matrix``): the value as given (a JSON
      string or a JSON-able object).

    Values that JSON cannot encode become ``.tolist()``, else ``.item()``, else ``str()``.

``tag``
    ``{"kind": "tag", "key": str, "value": str | null}``, one per key set.

``upload``
    ``{"kind": "upload", "name": str, "path": "uploads/<name>"}``: the file is complete at
    ``<control>/uploads/<name>`` (``UPLOADS_DIR``) before the event is written. ``name`` is
    a relative, '/'-separated run file name without '..' parts; uploading the same name
    again replaces the file and emits another event.

``status``
    ``{"kind": "status", "status": "Completed" | "Failed", "error": str | null,
    "error_code": str | null}`` from ``run.complete()`` / ``run.fail()`` (also on leaving a
    ``with`` block). Informational: the job may still go on; the process exit status decides.

The host tails the file with ``read_events``.
"""

import hashlib
import json
import os
import pathlib
import shutil

SHIM_DIR = pathlib.Path(__file__).parent / "shim"
RULES_DIR = pathlib.Path(__file__).parents[1] / "rules"
#: the name of ``amlocal.rules`` inside a job
JOB_RULES_PACKAGE = "amlocal_rules"

ENV_RUN_CONTROL = "AMLOCAL_RUN_CONTROL"
ENV_RUN_ID = "AMLOCAL_RUN_ID"
ENV_EXPERIMENT_NAME = "AMLOCAL_EXPERIMENT_NAME"
EVENTS_FILE = "events.jsonl"
UPLOADS_DIR = "uploads"


def read_events(path, offset=0):
    """Read the events appended to ``path`` after byte ``offset``.

    Returns ``(events, new_offset)``: the events (dicts) of the complete lines after
    ``offset``, and the offset just past the last complete line. A trailing line without its
    newline is left for the next call. Blank lines and complete lines that are not JSON
    objects are skipped (and passed). A missing file gives ``([], offset)``.
    """
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    events = []
    for line in data[:end].splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line.decode("utf-8"))
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events, offset + end


def _source_files():
    """(name inside the job's shim directory, file on this machine) of every shim file."""
    for path in sorted(SHIM_DIR.rglob("*.py")):
        yield path.relative_to(SHIM_DIR).as_posix(), path
    for path in sorted(RULES_DIR.glob("*.py")):
        yield f"{JOB_RULES_PACKAGE}/{path.name}", path


def job_shim_dir(cache):
    """The directory put first on every job's PYTHONPATH: the ``azureml`` shim and the rules it
    shares with the host (as ``amlocal_rules``). Assembled once per content under ``cache``,
    world-readable (a container's user reads it), never modified once complete."""
    files = list(_source_files())
    digest = hashlib.sha256()
    for name, path in files:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    target = pathlib.Path(cache) / "shim" / digest.hexdigest()[:16]
    if (target / ".complete").exists():
        return target
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    for name, path in files:
        destination = partial / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
    (partial / ".complete").touch()
    for path in [partial, *partial.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    try:
        partial.rename(target)
    except OSError:  # another process assembled it first
        shutil.rmtree(partial, ignore_errors=True)
    return target


def job_run_class():
    """The shim's ``Run`` class, loaded from SHIM_DIR without putting ``azureml`` on sys.path
    (so the host never shadows a real azureml-core)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "amlocal._runtime.job_run", SHIM_DIR / "azureml" / "core" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Run
