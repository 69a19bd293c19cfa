"""The "Web View" of a local run is its page in the studio: ``get_portal_url()``, the line
``wait_for_completion(show_output=True)`` prints, and ``amlocal run show``."""

import subprocess
import sys
import textwrap

from .conftest import start_studio, stop_studio
from .real_runs import make_workspace, open_workspace, submit

DEFAULT_BASE = "http://127.0.0.1:8765"


def test_web_view_says_how_to_start_the_studio_and_then_points_at_it(tmp_path, page, capsys):
    project = make_workspace(tmp_path / "project")
    run = submit(open_workspace(project), "train_curve.py", ["--lr", "0.1", "--epochs", "3"], wait=False)
    run.wait_for_completion(show_output=True)
    printed = capsys.readouterr().out
    assert run.get_portal_url() == f"{DEFAULT_BASE}/runs/{run.id}"
    assert (f"Web View: {DEFAULT_BASE}/runs/{run.id}  (start the studio with `amlocal ui` to open it)\n"
            in printed)

    process, url = start_studio(project)
    try:
        assert run.get_portal_url() == f"{url}runs/{run.id}"     # the studio actually serving it
        run.wait_for_completion(show_output=True)
        printed = capsys.readouterr().out
        assert f"RunId: {run.id}\nWeb View: {url}runs/{run.id}\n" in printed
        shown = subprocess.run([sys.executable, "-m", "amlocal.cli", "--config", str(project / "config.json"),
                                "run", "show", run.id], capture_output=True, text=True, timeout=60,
                               stdin=subprocess.DEVNULL)
        assert f"{url}runs/{run.id}" in shown.stdout
        page.goto(run.get_portal_url())
        assert run.id in page.locator("h1").inner_text()
        assert page.locator(".head-line [data-status]").inner_text() == "Completed"
    finally:
        stop_studio(process)


def test_a_local_backend_makes_links_without_loading_the_web_server(tmp_path):
    """The studio's web stack is the optional ui extra: asking a local backend for a run's link
    must not import it."""
    project = make_workspace(tmp_path / "project")
    code = textwrap.dedent(f"""
        import sys
        from amlocal.core import Workspace
        ws = Workspace.from_config(path={str(project / "config.json")!r}, backend="process")
        print(ws.backend.portal_url("exp_1_x"))
        print(ws.backend.web_view_text("exp_1_x"))
        print(sorted(m for m in ("starlette", "jinja2", "uvicorn", "amlocal.studio.app") if m in sys.modules))
    """)
    answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.splitlines() == [f"{DEFAULT_BASE}/runs/exp_1_x",
                                          f"{DEFAULT_BASE}/runs/exp_1_x  (start the studio with `amlocal ui` "
                                          "to open it)", "[]"]
