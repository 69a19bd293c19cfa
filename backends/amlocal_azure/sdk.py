"""What both SDK adapters do alike around their SDK's calls (nothing here imports an SDK):

* ``require_sdk``: whether an SDK is installed, asked without importing it;
* ``Recent``: an answer of the service reused for a moment (streaming asks for the log list and
  a log's address in the same poll, and each would otherwise cost a call);
* ``StatusTimelines``: the statuses this process saw a run in (Azure keeps no status history a
  client can read);
* the files of an Azure Blob container (an azure-storage-blob ``ContainerClient``, which both
  SDKs' datastores are): ``upload_to_container``, ``blob_names``, ``blob_path_kind``.
"""

import importlib.util
import threading
import time

from amlocal.rules.statuses import is_terminal
from amlocal.rules.uploads import upload_with_progress


def require_sdk(module, backend, distribution, extra):
    """Raise ImportError naming the extra to install (``pip install 'amlocal[<extra>]'``) unless
    ``module`` of ``distribution`` can be found."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ImportError(f"the {backend} backend needs {distribution}, which is not installed; "
                          f"install it with: pip install 'amlocal[{extra}]'")


class Recent:
    """``fetch(key)``'s answers, each reused while at most ``max_age`` seconds old."""

    def __init__(self, fetch):
        self._fetch = fetch
        self._answers = {}
        self._lock = threading.Lock()

    def get(self, key, max_age=1.0):
        with self._lock:
            cached = self._answers.get(key)
        if cached and time.monotonic() - cached[0] < max_age:
            return cached[1]
        answer = self._fetch(key)
        with self._lock:
            self._answers[key] = (time.monotonic(), answer)
        return answer


class StatusTimelines:
    """Per run, [(status, epoch seconds)] of each status seen, oldest first; nothing after a final one."""

    def __init__(self):
        self._timelines = {}
        self._lock = threading.Lock()

    def observe(self, run_id, status):
        with self._lock:
            timeline = self._timelines.setdefault(run_id, [])
            if timeline and is_terminal(timeline[-1][0]):
                return
            if not timeline or timeline[-1][0] != status:
                timeline.append((status, time.time()))

    def get(self, run_id):
        with self._lock:
            return list(self._timelines.get(run_id, []))


def upload_to_container(container, files, overwrite, show_progress):
    """Upload [(local path, blob name)] to ``container``; an existing blob is kept unless
    ``overwrite``. The number uploaded (``amlocal.rules.uploads`` shows the progress)."""
    def put(source, name):
        with open(source, "rb") as data:
            container.get_blob_client(name).upload_blob(data, overwrite=True)

    return upload_with_progress(files, overwrite, show_progress,
                                lambda name: container.get_blob_client(name).exists(), put)


def _listed(container, prefix):
    return (blob.name for blob in container.list_blobs(name_starts_with=(prefix or "").strip("/") or None))


def blob_names(container, prefix=None):
    """Sorted names of the container's blobs under ``prefix``."""
    return sorted(_listed(container, prefix))


def blob_path_kind(container, path):
    """"file" when ``path`` is one blob, "folder" when blobs are under it ("" is the root), None
    when neither; the listing stops at the first blob that tells (the service lists in name order)."""
    path = (path or "").strip("/")
    for name in _listed(container, path):
        if name == path:
            return "file"
        if not path or name.startswith(path + "/"):
            return "folder"
    return None
