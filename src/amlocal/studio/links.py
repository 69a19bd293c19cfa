"""Where a run's page is in the studio: the "Web View" link of a local run.

A running studio records itself in ``<workspace dir>/studio.json`` (pid, host, port) and
removes the file when it stops; ``run_url`` reads it, so a link points at the studio actually
serving that workspace, or at the default address when none is running (``web_view_text`` then
says how to start it). Nothing here imports the web server.
"""

import json
import os
from pathlib import Path
from urllib.parse import quote

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
STATE_FILE = "studio.json"
START_HINT = "start the studio with `amlocal ui` to open it"


def studio_state_path(workspace_dir):
    return Path(workspace_dir) / STATE_FILE


def running_studio(workspace_dir):
    """{"pid", "host", "port", "url", "token_required"} of the studio serving this workspace
    directory, or None when none is running."""
    try:
        state = json.loads(studio_state_path(workspace_dir).read_text())
        pid = int(state["pid"])
        int(state["port"])
        str(state["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except PermissionError:  # alive, but another user's process
        pass
    except OSError:
        return None
    return state


def base_url(host, port):
    if host in ("0.0.0.0", "::", ""):
        host = DEFAULT_HOST
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def run_url(workspace_dir, run_id):
    """The URL of the run's page in the studio (the running one, else the default address)."""
    state = running_studio(workspace_dir)
    base = state["url"].rstrip("/") if state else base_url(DEFAULT_HOST, DEFAULT_PORT)
    return f"{base}/runs/{quote(str(run_id), safe='')}"


def web_view_text(workspace_dir, run_id):
    """The run's URL, followed by how to start the studio when it is not running."""
    url = run_url(workspace_dir, run_id)
    return url if running_studio(workspace_dir) else f"{url}  ({START_HINT})"


def record_studio(workspace_dir, host, port, token_required):
    path = studio_state_path(workspace_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"pid": os.getpid(), "host": host, "port": port, "url": base_url(host, port),
             "token_required": token_required}
    temporary = path.with_name(f".{STATE_FILE}.{os.getpid()}")
    temporary.write_text(json.dumps(state))
    os.replace(temporary, path)


def forget_studio(workspace_dir):
    """Remove the record if it is this process's (another studio may have started since)."""
    path = studio_state_path(workspace_dir)
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass
