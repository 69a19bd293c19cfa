"""Sweeps (HyperDrive): the list of a workspace's sweeps, and a page per sweep with its children
table, the best-so-far chart of the primary metric and the parallel coordinates of the
hyperparameters against it (``amlocal.studio.sweeps`` reads them)."""

from starlette.routing import Route

from ..app import guarded

NAV = ("Sweeps", "/sweeps")


def routes(studio):
    data = studio.data

    @guarded(studio)
    def sweeps_page(request):
        return studio.page(request, "sweeps.html", sweeps=data.sweeps(), active="/sweeps", title="Sweeps")

    @guarded(studio)
    def sweep_page(request):
        sweep = data.sweep(request.path_params["run_id"])
        return studio.page(request, "sweep.html", sweep=sweep, run=sweep["run"], charts=True, active="/sweeps",
                           title=f"Sweep {sweep['run_id']}")

    @guarded(studio, api=True)
    def sweeps_api(request):
        return studio.json(data.sweeps())

    @guarded(studio, api=True)
    def sweep_api(request):
        return studio.json(data.sweep(request.path_params["run_id"]))

    @guarded(studio, api=True)
    def progress_api(request):
        """The best-so-far chart in the shape the studio's charts read."""
        sweep = data.sweep(request.path_params["run_id"])
        metric, progress = sweep["primary_metric"]["name"] or "metric", sweep["progress"]
        return studio.json({"name": metric, "kind": "sweep", "x_label": "child run", "count": len(progress["x"]),
                            "downsampled": False, "x": progress["x"],
                            # the dots last, so that they are drawn over the line
                            "series": [{"label": "best so far", "y": progress["best"], "steps": True},
                                       {"label": f"{metric} (each child)", "y": progress["values"], "points": True}]})

    return [
        Route("/sweeps", sweeps_page),
        Route("/sweeps/{run_id}", sweep_page),
        Route("/api/sweeps", sweeps_api),
        Route("/api/sweeps/{run_id}", sweep_api),
        Route("/api/sweeps/{run_id}/progress", progress_api),
    ]
