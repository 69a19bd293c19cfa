"""A run: Overview (status timeline, arguments, environment, error with log tail), Metrics (a
chart per metric, tables, images, confusion matrices), Outputs + logs (file tree, downloads,
the driver log streaming while the run runs, large logs paged), Snapshot, Child runs."""

import asyncio
import json
import mimetypes
import time
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.routing import Route

from ..app import guarded
from ..data import LOG_PAGE_BYTES

NAV = None
TABS = (("overview", "Overview"), ("metrics", "Metrics"), ("outputs", "Outputs + logs"), ("snapshot", "Snapshot"),
        ("children", "Child runs"))
INLINE_IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
                 ".webp": "image/webp", ".bmp": "image/bmp"}
TEXT_VIEW_LIMIT = 2 * 1024 * 1024
EVENT_POLL_SECONDS = 0.5
STATUS_REFRESH_SECONDS = 5
DRIVER_LOG = "azureml-logs/70_driver_log.txt"


def routes(studio):
    data = studio.data

    @guarded(studio)
    def run_page(request):
        run_id = request.path_params["run_id"]
        tab = request.query_params.get("tab", "overview")
        if tab not in dict(TABS):
            tab = "overview"
        run = data.run(run_id)
        context = {"run": run, "tab": tab, "tabs": TABS, "title": f"Run {run_id}", "active": "/"}
        if tab == "metrics":
            context["metrics"] = data.metrics(run_id)
            context["charts"] = True
        elif tab == "outputs":
            context["files"] = file_tree(data.files(run_id))
            context["log"] = _chosen_log(request, run)
            context["page"] = data.log_page(run_id, context["log"]) if context["log"] else None
        elif tab == "snapshot":
            context["files"] = file_tree(data.snapshot_files(run_id))
        return studio.page(request, "run.html", **context)

    @guarded(studio, api=True)
    def run_api(request):
        return studio.json(data.run_details(request.path_params["run_id"]))

    @guarded(studio, api=True)
    def metrics_api(request):
        run_id = request.path_params["run_id"]
        if request.query_params.get("rows"):
            return studio.json(data.metric_rows(run_id, request.query_params.get("name")))
        return studio.json(data.metrics(run_id))

    @guarded(studio, api=True)
    def series_api(request):
        return studio.json(data.metric_series(request.path_params["run_id"], request.query_params.get("name", "")))

    @guarded(studio, api=True)
    def files_api(request):
        run_id = request.path_params["run_id"]
        if request.query_params.get("snapshot"):
            return studio.json(data.snapshot_files(run_id))
        return studio.json(data.files(run_id))

    @guarded(studio, api=True)
    def children_api(request):
        return studio.json(data.run(request.path_params["run_id"])["children"])

    @guarded(studio, api=True)
    def log_api(request):
        params = request.query_params
        start, before = params.get("start"), params.get("before")
        page = data.log_page(request.path_params["run_id"], params.get("name", DRIVER_LOG),
                             start=int(start) if start and start.isdigit() else None,
                             before=int(before) if before and before.isdigit() else None,
                             limit=min(int(params.get("limit", LOG_PAGE_BYTES)), 4 * LOG_PAGE_BYTES)
                             if params.get("limit", "").isdigit() else LOG_PAGE_BYTES)
        return studio.json(page)

    @guarded(studio)
    def file_download(request):
        """A run (or snapshot) file: images inline, text inline with view=1, else an attachment."""
        run_id = request.path_params["run_id"]
        name = request.query_params.get("name", "")
        snapshot = bool(request.query_params.get("snapshot"))
        handle = data.open_file(run_id, name, snapshot=snapshot)
        base = name.rsplit("/", 1)[-1] or "file"
        suffix = ("." + base.rsplit(".", 1)[-1].lower()) if "." in base else ""
        headers = {"cache-control": "no-store"}
        if suffix in INLINE_IMAGES:
            media_type = INLINE_IMAGES[suffix]
            headers["content-disposition"] = f"inline; filename*=UTF-8''{quote(base)}"
        elif request.query_params.get("view"):
            media_type = "text/plain; charset=utf-8"
            headers["content-disposition"] = "inline"
            size = handle.seek(0, 2)
            handle.seek(0)
            if size > TEXT_VIEW_LIMIT:
                handle.close()
                return studio.error_page(request, 413, f"{name} is {size} bytes: download it instead of viewing.")
        else:
            media_type = mimetypes.guess_type(base)[0] or "application/octet-stream"
            if media_type.startswith("text/") or media_type in ("image/svg+xml", "application/xhtml+xml"):
                media_type = "application/octet-stream"  # never rendered by the browser
            headers["content-disposition"] = f"attachment; filename*=UTF-8''{quote(base)}"
        return StreamingResponse(_chunks(handle), media_type=media_type, headers=headers)

    async def events(request):
        """Server-sent events while the run runs: ``status`` ({status, duration, terminal}),
        ``log`` (a page of new whole lines of the log asked for, from byte ``offset``), and
        ``end`` once the run has ended and the log is read to its end."""
        run_id = request.path_params["run_id"]
        name = request.query_params.get("log") or None
        offset = request.query_params.get("offset", "0")
        offset = int(offset) if offset.isdigit() else 0
        try:
            await run_in_threadpool(data.history.get_run, run_id)
        except Exception as err:  # noqa: BLE001 - reported to the page as its error
            return studio.error_page(request, 404, str(err), api=True)
        return StreamingResponse(_event_stream(request, data, run_id, name, offset), media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    return [
        Route("/runs/{run_id}", run_page),
        Route("/runs/{run_id}/file", file_download),
        Route("/api/runs/{run_id}", run_api),
        Route("/api/runs/{run_id}/metrics", metrics_api),
        Route("/api/runs/{run_id}/metrics/series", series_api),
        Route("/api/runs/{run_id}/files", files_api),
        Route("/api/runs/{run_id}/children", children_api),
        Route("/api/runs/{run_id}/log", log_api),
        Route("/api/runs/{run_id}/events", events),
    ]


def _chosen_log(request, run):
    name = request.query_params.get("log")
    if name in run["logs"]:
        return name
    if DRIVER_LOG in run["logs"]:
        return DRIVER_LOG
    if not run["terminal"]:
        return DRIVER_LOG  # not written yet: the page follows it once it is
    return run["logs"][-1] if run["logs"] else None


def _chunks(handle, size=256 * 1024):
    with handle:
        while True:
            chunk = handle.read(size)
            if not chunk:
                return
            yield chunk


async def _event_stream(request, data, run_id, name, offset):
    def event(kind, payload):
        return f"event: {kind}\ndata: {json.dumps(payload)}\n\n"

    last_status, last_sent = None, 0.0
    while not await request.is_disconnected():
        status = (await run_in_threadpool(data.statuses, [run_id])).get(run_id)
        if status is None:
            return
        # Sent on a change, and every few seconds so the page's duration keeps counting.
        if status["status"] != last_status or time.monotonic() - last_sent > STATUS_REFRESH_SECONDS:
            last_status, last_sent = status["status"], time.monotonic()
            yield event("status", status)
        complete = True
        if name:
            page = await run_in_threadpool(data.log_page, run_id, name, offset)
            if page["end"] > offset:
                offset = page["end"]
                yield event("log", {"name": name, "start": page["start"], "end": page["end"], "text": page["text"]})
            complete = page["complete"]
        if status["terminal"] and complete:
            yield event("end", {"status": status["status"]})
            return
        if not name or page["end"] >= page["size"]:  # caught up: wait for more
            await asyncio.sleep(EVENT_POLL_SECONDS)


def file_tree(names):
    """Nested {"dirs": {name: tree}, "files": [(base name, full name)]} of sorted file names."""
    root = {"dirs": {}, "files": []}
    for name in names:
        parts = name.split("/")
        node = root
        for part in parts[:-1]:
            node = node["dirs"].setdefault(part, {"dirs": {}, "files": []})
        node["files"].append((parts[-1], name))
    return root
