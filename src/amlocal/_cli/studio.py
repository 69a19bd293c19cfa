"""``amlocal ui``: serve the studio for the workspace (``amlocal.studio``)."""

import sys

from . import EXIT_OK
from .common import open_workspace


def serve_studio(args):
    from amlocal.exceptions import BackendUnavailableError
    from amlocal.studio import UI_EXTRA_HINT

    try:
        from amlocal.studio.server import serve
        import jinja2, starlette, uvicorn  # noqa: F401,E401 - checked here, used by the server
    except ImportError as err:
        raise BackendUnavailableError(f"{UI_EXTRA_HINT} ({err})") from None
    workspace = open_workspace(args)
    try:
        serve(workspace, host=args.host, port=args.port, open_browser=not args.no_browser,
              allow_actions=args.allow_actions)
    except KeyboardInterrupt:  # Ctrl+C is how a studio is stopped: not an error
        pass
    print("amlocal studio: stopped", file=sys.stderr)
    return EXIT_OK
