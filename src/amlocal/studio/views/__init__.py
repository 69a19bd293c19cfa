"""The studio's sections, in the order of its navigation bar.

Each section is a module with ``routes(studio)`` (Starlette routes: its pages and their JSON API
under ``/api/``) and ``NAV`` ((label, path) in the navigation bar, or None).

Extension points, for what amlocal does not have yet:

* **Sweeps** (HyperDrive): a ``sweeps`` module here, with a page per sweep run (children table,
  best-so-far chart of the primary metric, parallel coordinates of hyperparameters against it),
  reading the children through ``StudioData.run(...)["children"]`` (``RunHistory.child_runs``)
  and their metrics through ``StudioData.runs(run_ids=...)``. The run page already lists a run's
  children under "Child runs"; a sweep page would link from there.
* **Services** (deployments): a ``services`` module here (state, scoring URI, logs) over the
  deployment interface once it exists; add its NAV entry to appear in the bar.
"""

from . import actions, compare, experiments, models, run

SECTIONS = (experiments, run, compare, models, actions)
