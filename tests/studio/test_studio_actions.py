"""Actions behind confirmations (only with --allow-actions)."""

import re

from playwright.sync_api import expect

from .conftest import start_studio, stop_studio
from .real_runs import open_workspace, submit


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
        # the page reloads itself when the run ends: wait for what it then shows, through that reload
        expect(page.locator(".head-line [data-status]")).to_have_text("Canceled", timeout=30_000)
    finally:
        stop_studio(process)


def test_a_read_only_studio_offers_no_actions(studio, page):
    page.goto(studio(f"/runs/{studio.runs['first']}"))
    assert page.locator(".actions").count() == 0
    assert page.locator("header .badge").inner_text() == "read-only"
