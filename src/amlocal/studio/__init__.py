"""amlocal studio: a local web UI to see, chart and compare runs and models (``amlocal ui``).

* ``amlocal.studio.data``: the read facade over the workspace's run history and model registry
  (plain dicts; also what the CLI's ``--json`` prints). No web dependencies.
* ``amlocal.studio.links``: a run's studio URL (its "Web View" link). No web dependencies.
* ``amlocal.studio.app`` / ``server``: the Starlette app and the uvicorn server; they need the
  ``ui`` extra (``pip install 'amlocal[ui]'``).
"""

UI_EXTRA_HINT = "The studio needs the ui extra: pip install 'amlocal[ui]' (Starlette, Jinja2, uvicorn)."
