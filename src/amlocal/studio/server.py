"""Serving the studio: bind, print the address (and the token when one is needed), record the
studio for "Web View" links, open a browser where there is a display, serve until Ctrl+C."""

import os
import socket
import sys
import threading

from ..exceptions import BackendUnavailableError, InvalidArgumentError
from . import links
from .security import is_loopback, new_token


def bind(host, port):
    """A listening socket; port 0 takes a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as err:
        sock.close()
        if err.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise BackendUnavailableError(f"Port {port} on {host} is already in use (another studio?). Pass "
                                          "--port N for another port, or --port 0 for any free one.") from None
        raise InvalidArgumentError(f"Cannot listen on {host}:{port}: {err.strerror or err}. Pass a --host this "
                                   "machine has (default 127.0.0.1).") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def can_open_browser():
    """A graphical browser only: never a console browser taking over the terminal."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def serve(workspace, host="127.0.0.1", port=links.DEFAULT_PORT, open_browser=True, allow_actions=False, out=None):
    """Serve ``workspace`` until interrupted. Loopback hosts need no token; any other host
    gets a fresh token that every request must carry."""
    import uvicorn

    from .app import create_app

    out = out or sys.stdout
    token = None if is_loopback(host) else new_token()
    sock = bind(host, port)
    port = sock.getsockname()[1]
    url = links.base_url(host, port) + "/"
    login = url + (f"?token={token}" if token else "")
    app = create_app(workspace, allow_actions=allow_actions, token=token, port=port)
    data = app.app.state.studio.data
    workspace_dir = data.local_root

    if workspace_dir is not None:  # before the address is printed: whoever reads it finds the record
        links.record_studio(workspace_dir, host, port, token_required=bool(token))
    out.write(f"amlocal studio: workspace {workspace.name} ({data.backend_name} backend)\n")
    if not data.is_local:
        out.write(f"  note: the {data.backend_name} backend's runs are on Azure ML; the studio reads local "
                  "workspaces (docker, process) and may show little here. Azure ML's studio shows them.\n")
    out.write(f"  {login}\n")
    if token:
        out.write(f"  listening on {host}:{port}; every request needs the token above (open that URL once)\n")
    out.write("  read-only (start with --allow-actions to cancel runs and set tags)\n" if not allow_actions
              else "  actions enabled: cancel and tag, each after a confirmation\n")
    out.write("  press Ctrl+C to stop\n")
    out.flush()

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    if open_browser and can_open_browser():
        import webbrowser

        threading.Timer(0.5, webbrowser.open, [login]).start()
    try:
        server.run(sockets=[sock])
    finally:
        if workspace_dir is not None:
            links.forget_studio(workspace_dir)
        sock.close()
