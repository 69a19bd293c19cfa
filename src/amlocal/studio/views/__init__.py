"""The studio's sections, in the order of its navigation bar.

Each section is a module with ``routes(studio)`` (Starlette routes: its pages and their JSON API
under ``/api/``) and ``NAV`` ((label, path) in the navigation bar, or None).

Extension point, for what amlocal does not have yet:

* **Services** (deployments): a ``services`` module here (state, scoring URI, logs) over the
  deployment interface once it exists; add its NAV entry to appear in the bar.
"""

from . import actions, compare, experiments, models, run, sweeps

SECTIONS = (experiments, run, sweeps, compare, models, actions)
