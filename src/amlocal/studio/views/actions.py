"""Actions that change state: cancel a run, set a tag. Served only when the studio was started
with ``--allow-actions``; each is a confirmation page (GET) whose form does it (POST), and a
POST must carry the page's CSRF token from the same origin."""

from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse
from starlette.routing import Route

from ..security import same

NAV = None
MAX_BODY = 64 * 1024


def routes(studio):
    if not studio.allow_actions:
        return []
    data = studio.data

    async def cancel(request):
        run_id = request.path_params["run_id"]
        if request.method == "GET":
            return await _confirm(request, run_id, f"Cancel run {run_id}?",
                                  "The run stops; it ends Canceled. This cannot be undone.", {})
        form = await _checked_form(studio, request)
        if form is None:
            return studio.error_page(request, 403, "Refused: the request did not come from this studio's page.")
        await run_in_threadpool(data.cancel_run, run_id)
        return RedirectResponse(f"/runs/{_q(run_id)}", status_code=303)

    async def tag(request):
        run_id = request.path_params["run_id"]
        if request.method == "GET":
            key = request.query_params.get("key", "").strip()
            value = request.query_params.get("value", "")
            if not key:
                return studio.error_page(request, 400, "A tag needs a key.")
            return await _confirm(request, run_id, f"Set tag {key!r} to {value!r} on run {run_id}?",
                                  "An existing tag of that key is replaced.", {"key": key, "value": value})
        form = await _checked_form(studio, request)
        if form is None or not form.get("key"):
            return studio.error_page(request, 403, "Refused: the request did not come from this studio's page.")
        await run_in_threadpool(data.set_tag, run_id, form["key"], form.get("value", ""))
        return RedirectResponse(f"/runs/{_q(run_id)}", status_code=303)

    async def _confirm(request, run_id, question, consequence, fields):
        await run_in_threadpool(data.history.get_run, run_id)
        return studio.page(request, "confirm.html", question=question, consequence=consequence, fields=fields,
                           action=request.url.path, back=f"/runs/{_q(run_id)}", title="Confirm")

    return [
        Route("/runs/{run_id}/cancel", cancel, methods=["GET", "POST"]),
        Route("/runs/{run_id}/tag", tag, methods=["GET", "POST"]),
    ]


def _q(value):
    from urllib.parse import quote

    return quote(value, safe="")


async def _checked_form(studio, request):
    """The POSTed form when it carries the CSRF token and comes from this origin, else None."""
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
        return None
    if request.headers.get("sec-fetch-site") not in (None, "same-origin"):
        return None
    body = await request.body()
    if len(body) > MAX_BODY:
        return None
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
    return form if same(form.get("csrf"), studio.csrf) else None
