"""Experiments and the runs table: live status, duration, compute target, the metric,
hyperparameter and tag columns the user picks; filtered, sorted and paged on the server;
runs selected on a page go to Compare."""

from collections import Counter
from urllib.parse import urlencode

from starlette.routing import Route

from ..app import guarded, user_tags

NAV = ("Experiments", "/")
DEFAULT_LIMIT = 100_000
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
STATUSES = ("Completed", "Failed", "Canceled", "Running", "Queued", "Preparing", "NotStarted")
DEFAULT_METRIC_COLUMNS = 6
DEFAULT_PARAM_COLUMNS = 4


def routes(studio):
    @guarded(studio)
    def experiments_page(request):
        return studio.page(request, "experiments.html", experiments=studio.data.experiments(), active="/",
                           title="Experiments")

    @guarded(studio)
    def experiment_page(request):
        name = request.path_params["name"]
        return _runs_page(studio, request, experiment=name)

    @guarded(studio)
    def all_runs_page(request):
        return _runs_page(studio, request, experiment=None)

    @guarded(studio, api=True)
    def experiments_api(request):
        return studio.json(studio.data.experiments())

    @guarded(studio, api=True)
    def runs_api(request):
        runs = studio.data.runs(experiment=request.query_params.get("experiment") or None,
                                limit=_limit(request), run_ids=request.query_params.getlist("run") or None)
        return studio.json(runs)

    @guarded(studio, api=True)
    def statuses_api(request):
        return studio.json(studio.data.statuses(request.query_params.getlist("run")[:500]))

    return [
        Route("/", experiments_page),
        Route("/experiments/{name}", experiment_page),
        Route("/runs", all_runs_page),
        Route("/api/experiments", experiments_api),
        Route("/api/runs", runs_api),
        Route("/api/runs/status", statuses_api),
    ]


def _limit(request, default=None):
    text = request.query_params.get("limit")
    if text and text.isdigit() and int(text) > 0:
        return int(text)
    return default


def _runs_page(studio, request, experiment):
    """One page of the runs table: filtered, sorted and paged on the server, so a page of 100
    rows is drawn at once however many runs the experiment has."""
    params = request.query_params
    runs = studio.data.runs(experiment=experiment, limit=_limit(request, DEFAULT_LIMIT))
    choices = column_choices(runs)
    columns = chosen_columns(choices, params.getlist("col"))
    query, status = params.get("q", "").strip(), params.get("status", "")
    shown = [run for run in runs if (not status or run["status"] == status) and matches(run, query)]
    sort, order = params.get("sort", "created"), params.get("order", "desc")
    shown = sort_runs(shown, sort, order != "asc")
    per_page = min(_number(params.get("per"), PAGE_SIZE), MAX_PAGE_SIZE)
    pages = max(1, -(-len(shown) // per_page))
    page = min(max(1, _number(params.get("page"), 1)), pages)
    view = shown[(page - 1) * per_page:page * per_page]

    def link(**changes):
        items = [(k, v) for k, v in params.multi_items() if k not in changes]
        items += [(k, str(v)) for k, v in changes.items() if v not in (None, "")]
        return request.url.path + ("?" + urlencode(items) if items else "")

    def sort_link(key):
        descending = not (sort == key and order != "asc")
        return link(sort=key, order="desc" if descending else "asc", page=None)

    title = f"Experiment {experiment}" if experiment else "All runs"
    return studio.page(request, "runs.html", runs=view, total=len(runs), matching=len(shown), page=page, pages=pages,
                       first=(page - 1) * per_page + 1, experiment=experiment, columns=columns, choices=choices,
                       chosen={f"{kind}:{name}" for kind, name in columns}, query=query, status=status, sort=sort,
                       order=order, link=link, sort_link=sort_link, statuses=STATUSES, active="/", title=title)


def _number(text, default):
    return int(text) if text and text.isdigit() and int(text) > 0 else default


def matches(run, query):
    """A case-insensitive text match on what the row shows."""
    if not query:
        return True
    query = query.lower()
    haystack = [run["run_id"], run["status"], run["experiment"], run["compute_target"] or ""]
    for values in (run["tags"], run["params"], run["metrics"]):
        haystack.extend(f"{k}={v}" for k, v in values.items())
    return any(query in str(text).lower() for text in haystack)


def sort_runs(runs, key, descending):
    """Sorted by a column key (created, duration, status, run, compute, m:NAME, p:NAME, t:NAME);
    runs without a value come last either way."""
    def value(run):
        kind, _, name = key.partition(":")
        if kind in ("m", "p", "t") and name:
            found = {"m": run["metrics"], "p": run["params"], "t": run["tags"]}[kind].get(name)
        else:
            found = {"created": run["created"], "duration": run["duration"], "status": run["status"],
                     "run": run["run_id"], "compute": run["compute_target"],
                     "experiment": run["experiment"]}.get(key, run["created"])
        if isinstance(found, bool) or not isinstance(found, (int, float)):
            return (1, str(found)) if found is not None else None
        return (0, found)

    present = [(value(run), run) for run in runs]
    known = sorted((item for item in present if item[0] is not None), key=lambda item: item[0], reverse=descending)
    return [run for _, run in known] + [run for v, run in present if v is None]


def column_choices(runs):
    """The metric, hyperparameter and tag names of these runs, most frequent first."""
    counts = {kind: Counter() for kind in ("m", "p", "t")}
    for run in runs:
        counts["m"].update(run["metrics"].keys())
        counts["p"].update(run["params"].keys())
        counts["t"].update(user_tags(run["tags"]).keys())
    return {kind: [name for name, _ in sorted(counter.items(), key=lambda item: (-item[1], item[0]))]
            for kind, counter in counts.items()}


def chosen_columns(choices, chosen):
    """[(kind, name)]: the columns asked for (col=m:accuracy, col=p:kernel, col=t:owner), or by
    default the most frequent hyperparameters and metrics."""
    if chosen:
        out = []
        for item in chosen:
            kind, _, name = item.partition(":")
            if kind in ("m", "p", "t") and name and (kind, name) not in out:
                out.append((kind, name))
        return out
    return ([("p", name) for name in choices["p"][:DEFAULT_PARAM_COLUMNS]]
            + [("m", name) for name in choices["m"][:DEFAULT_METRIC_COLUMNS]])
