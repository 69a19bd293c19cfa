"""Actions behind confirmations (only with --allow-actions), and child runs on a run's page."""

import re

from .conftest import start_studio, stop_studio
from .real_runs import make_workspace, open_workspace, submit


def test_cancel_from_the_studio_asks_first_then_cancels(studio_project, page, tmp_path):
    project, _ = studio_project
    process, url = start_studio(project, "--allow-actions")
    try:
        run = submit(open_workspace(project), "train_slow.py", [str(tmp_path / "never")], experiment="studio-cancel",
                     wait=False)
        page.goto(f"{url}runs/{run.id}")
        page.get_by_text("Cancel run…").click()
        page.wait_for_url(re.compile(r"/cancel$"))
        assert page.locator("h1").inner_text() == f"Cancel run {run.id}?"
        assert run.get_status() not in ("Canceled", "CancelRequested")      # asking changed nothing
        page.get_by_text("Yes, do it").click()
        page.wait_for_url(re.compile(re.escape(run.id) + "$"))
        run.wait_for_completion(raise_on_error=False)
        assert run.get_status() == "Canceled"
        page.reload()
        assert page.locator(".head-line [data-status]").inner_text() == "Canceled"
    finally:
        stop_studio(process)


def test_a_read_only_studio_offers_no_actions(studio, page):
    page.goto(studio(f"/runs/{studio.runs['first']}"))
    assert page.locator(".actions").count() == 0
    assert page.locator("header .badge").inner_text() == "read-only"


def test_child_runs_are_listed_once_runs_record_their_parent(tmp_path, page):
    """The runs table gains a parent_run_id column with sweeps; the run page lists children."""
    project = make_workspace(tmp_path / "project")
    workspace = open_workspace(project)
    parent = submit(workspace, "train_curve.py", ["--lr", "0.1", "--epochs", "3"], experiment="sweep")
    child = submit(workspace, "train_curve.py", ["--lr", "0.2", "--epochs", "3"], experiment="sweep")
    workspace.stores.database.write("UPDATE runs SET parent_run_id = ? WHERE run_id = ?", (parent.id, child.id))
    process, url = start_studio(project)
    try:
        page.goto(f"{url}runs/{parent.id}")
        page.get_by_text("Child runs (1)").click()
        assert page.locator("table.grid a.runid").all_inner_texts() == [child.id]
        assert "lr=0.2" in page.locator("table.grid").inner_text()
        page.goto(f"{url}runs/{child.id}")
        assert page.locator("table.kv a.runid").inner_text() == parent.id     # its parent, linked
    finally:
        stop_studio(process)
