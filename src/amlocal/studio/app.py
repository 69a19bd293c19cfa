"""The studio's web application: server-rendered pages, the JSON API under them, static files.

``create_app(workspace)`` returns a Starlette (ASGI) app. Its pages come from the sections in
``amlocal.studio.views`` (each a module with ``routes()`` and a nav entry); a page answers from
the data of ``amlocal.studio.data`` and a Jinja template with autoescaping on, so whatever a run
recorded is shown as text. Handlers are plain functions (Starlette runs them in its thread pool:
the run history is blocking SQLite).
"""

import json
import math
import time
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from .._cli.common import duration
from ..exceptions import AmlocalError, InvalidArgumentError, ModelNotFoundError, RunError, RunNotFoundError
from ..sweeps import PLANNED_TAG as SYSTEM_TAG_PREFIX
from .data import NotAvailable, StudioData
from .security import Guard, new_token

HERE = Path(__file__).resolve().parent
STATUS_CLASSES = {"Completed": "ok", "Failed": "bad", "Canceled": "muted", "CancelRequested": "muted",
                  "Running": "live", "Finalizing": "live", "Starting": "live", "Preparing": "live",
                  "Queued": "wait", "NotStarted": "wait"}


class Studio:
    """What every handler shares: the data facade, the templates, and the server's settings."""

    def __init__(self, workspace, allow_actions=False, token=None):
        self.data = StudioData(workspace)
        self.allow_actions = allow_actions
        self.token = token
        self.csrf = new_token()
        self.templates = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                                     autoescape=select_autoescape(default=True, default_for_string=True),
                                     trim_blocks=True, lstrip_blocks=True)
        self.templates.filters.update(when=when, dur=duration, val=short_value, q=url_part,
                                      status_class=lambda s: STATUS_CLASSES.get(s, "wait"), pretty=pretty_json,
                                      shade=shade, user_tags=user_tags)
        self.nav = []

    def page(self, request, template, status_code=200, **context):
        """An HTML page; headers say no caching (run history changes under it)."""
        html = self.templates.get_template(template).render(
            request=request, workspace=self.data.workspace_info(), nav=self.nav, allow_actions=self.allow_actions,
            csrf=self.csrf, active=context.pop("active", None), **context)
        return HTMLResponse(html, status_code=status_code, headers={"cache-control": "no-store"})

    def json(self, data, status_code=200):
        return JSONResponse(jsonable(data), status_code=status_code, headers={"cache-control": "no-store"})

    def error_page(self, request, status_code, message, api=False):
        if api:
            return self.json({"error": message}, status_code)
        return self.page(request, "error.html", status_code=status_code, message=message, title="Error")


def create_app(workspace, allow_actions=False, token=None, port=None):
    """The ASGI app serving ``workspace``. ``token``: require it on every request (for a
    non-loopback bind); None answers loopback Host names only. ``allow_actions`` enables
    cancel and tag, each behind a confirmation page."""
    from . import views

    studio = Studio(workspace, allow_actions=allow_actions, token=token)
    routes = []
    for section in views.SECTIONS:
        routes.extend(section.routes(studio))
        if getattr(section, "NAV", None):
            studio.nav.append(section.NAV)
    routes.append(Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"))

    async def not_found(request, exc):
        return studio.error_page(request, 404, f"Nothing at {request.url.path}.",
                                 api=request.url.path.startswith("/api/"))

    app = Starlette(routes=routes, exception_handlers={404: not_found})
    app.state.studio = studio
    return Guard(app, token=token, port=port)


def guarded(studio, api=False):
    """Turn amlocal errors of a handler into a 404/400/503 page (or JSON) saying what was wrong."""
    def wrap(handler):
        def endpoint(request):
            try:
                return handler(request)
            except (RunNotFoundError, ModelNotFoundError) as err:
                return studio.error_page(request, 404, str(err), api)
            except NotAvailable as err:
                return studio.error_page(request, 501, f"{err} The studio reads local workspaces (docker and "
                                                       "process backends); Azure ML's own studio shows runs "
                                                       "on Azure.", api)
            except (RunError, InvalidArgumentError, ValueError) as err:
                return studio.error_page(request, 404 if isinstance(err, RunError) else 400, str(err), api)
            except AmlocalError as err:
                return studio.error_page(request, 503, str(err), api)
        endpoint.__name__ = handler.__name__
        return endpoint
    return wrap


# -- template filters and JSON ---------------------------------------------------------------------

def when(epoch):
    if epoch is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def short_value(value, width=60):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[:width - 1] + "…"


def user_tags(values):
    """Tags without Azure ML's system tags (``_aml_system_...``: a sweep's settings and plan),
    which Azure ML's studio does not show either; the JSON API keeps them."""
    return {key: value for key, value in (values or {}).items() if not str(key).startswith(SYSTEM_TAG_PREFIX)}


def url_part(value):
    """Percent-encode a path segment or query value (slashes too)."""
    return quote(str(value), safe="")


def pretty_json(value):
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def shade(value, maximum):
    """A confusion-matrix cell's class, shade-0 .. shade-9 (no inline style: the CSP forbids it)."""
    try:
        ratio = float(value) / float(maximum) if maximum else 0.0
    except (TypeError, ValueError):
        return "shade-0"
    return f"shade-{max(0, min(9, int(ratio * 9.999)))}" if math.isfinite(ratio) else "shade-0"


def jsonable(value):
    """JSON without NaN/Infinity (which browsers' JSON.parse refuses): they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
