"""Compare: the selected runs side by side (status, duration, hyperparameters, last metric
values, tags) and one chart per metric with a line for each run."""

from starlette.routing import Route

from ..app import guarded

NAV = ("Compare", "/compare")
MAX_RUNS = 20


def routes(studio):
    data = studio.data

    def _run_ids(request):
        ids = []
        for run_id in request.query_params.getlist("run"):
            if run_id and run_id not in ids:
                ids.append(run_id)
        return ids[:MAX_RUNS]

    @guarded(studio)
    def compare_page(request):
        run_ids = _run_ids(request)
        comparison = data.compare(run_ids) if run_ids else None
        return studio.page(request, "compare.html", comparison=comparison, run_ids=run_ids, active="/compare",
                           charts=bool(comparison),
                           title="Compare runs", max_runs=MAX_RUNS)

    @guarded(studio, api=True)
    def compare_api(request):
        return studio.json(data.compare(_run_ids(request)))

    @guarded(studio, api=True)
    def compare_series_api(request):
        return studio.json(data.compare_series(_run_ids(request), request.query_params.get("name", "")))

    return [
        Route("/compare", compare_page),
        Route("/api/compare", compare_api),
        Route("/api/compare/series", compare_series_api),
    ]
