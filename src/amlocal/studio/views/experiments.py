"""Experiments and the runs table: live status, duration, compute target, the metric,
hyperparameter and tag columns the user picks; filter, sort and select runs to compare."""

from collections import Counter

from starlette.routing import Route

from ..app import guarded

NAV = ("Experiments", "/")
DEFAULT_LIMIT = 2000
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
    limit = _limit(request, DEFAULT_LIMIT)
    runs = studio.data.runs(experiment=experiment, limit=limit + 1)
    truncated = len(runs) > limit
    runs = runs[:limit]
    choices = column_choices(runs)
    chosen = request.query_params.getlist("col")
    columns = chosen_columns(choices, chosen)
    title = f"Experiment {experiment}" if experiment else "All runs"
    return studio.page(request, "runs.html", runs=runs, experiment=experiment, columns=columns, choices=choices,
                       chosen={f"{kind}:{name}" for kind, name in columns}, truncated=truncated, limit=limit,
                       active="/", title=title)


def column_choices(runs):
    """The metric, hyperparameter and tag names of these runs, most frequent first."""
    counts = {kind: Counter() for kind in ("m", "p", "t")}
    for run in runs:
        counts["m"].update(run["metrics"].keys())
        counts["p"].update(run["params"].keys())
        counts["t"].update(run["tags"].keys())
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
