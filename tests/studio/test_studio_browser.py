"""The studio in Chromium, over real runs: what a person sees on each page."""

import re
import time

from .real_runs import EXPERIMENT, open_workspace, submit


def test_runs_table_shows_the_runs_with_status_metrics_and_hyperparameters(studio, page):
    runs = studio.runs
    page.goto(studio(f"/experiments/{EXPERIMENT}"))
    rows = page.locator("#runs tbody tr")
    assert rows.count() == 3
    row_of = {rows.nth(i).get_attribute("data-run-id"): rows.nth(i) for i in range(3)}
    assert set(row_of) == {runs["first"], runs["second"], runs["failed"]}
    assert row_of[runs["first"]].locator("[data-status]").inner_text() == "Completed"
    assert row_of[runs["failed"]].locator("[data-status]").inner_text() == "Failed"
    headers = page.locator("#runs thead th").all_inner_texts()
    for column in ("lr", "epochs", "accuracy", "loss", "Duration", "Compute"):
        assert column in headers
    cells = row_of[runs["second"]].locator("td").all_inner_texts()
    assert cells[headers.index("lr")] == "0.3"
    assert cells[headers.index("accuracy")] == "1.1"
    assert "team=vision" in cells[headers.index("Tags")]

    page.fill("#filter", "failed")
    page.press("#filter", "Enter")
    page.wait_for_url(re.compile(r"q=failed"))
    assert [r.get_attribute("data-run-id") for r in page.locator("#runs tbody tr").all()] == [runs["failed"]]
    page.goto(studio(f"/experiments/{EXPERIMENT}"))
    page.locator("#runs thead th a", has_text="lr").click()            # sort by a hyperparameter
    page.wait_for_url(re.compile(r"sort=p%3Alr"))
    order = [r.get_attribute("data-run-id") for r in page.locator("#runs tbody tr").all()]
    assert order == [runs["second"], runs["first"], runs["failed"]]     # 0.3, 0.1, then the run without lr
    page.locator("#runs thead th a", has_text="lr").click()
    page.wait_for_url(re.compile(r"order=asc"))
    order = [r.get_attribute("data-run-id") for r in page.locator("#runs tbody tr").all()]
    assert order == [runs["first"], runs["second"], runs["failed"]]


def test_run_page_draws_a_chart_of_the_logged_points(studio, page):
    page.goto(studio(f"/runs/{studio.runs['first']}?tab=metrics"))
    chart = page.locator('.chart[data-title="loss"]')
    chart.locator("canvas").wait_for()
    page.wait_for_selector('.chart[data-title="loss"][data-drawn]')
    assert chart.get_attribute("data-points") == "40"                 # 40 epochs logged, all drawn
    assert page.locator('.chart[data-title="val_curve"]').get_attribute("data-points") == "5"
    # a single value, a table of rows, a confusion matrix and an image, as Azure shows them
    assert "0.9" in page.locator("#metric-values").inner_text()
    assert "versicolor" in page.locator(".metric-table", has_text="per_class").inner_text()
    matrix = page.locator("table.confusion")
    assert matrix.locator("td").all_inner_texts() == ["13", "0", "0", "0", "15", "1", "0", "2", "7"]
    image = page.locator(".images img")
    image.wait_for()
    page.wait_for_function("() => document.querySelector('.images img').naturalWidth > 0")
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [64, 48]


def test_failed_run_shows_its_error_and_the_end_of_its_log(studio, page):
    page.goto(studio(f"/runs/{studio.runs['failed']}"))
    error = page.locator("#error")
    assert "User program failed" in error.inner_text()
    assert "ValueError: the training data has no rows" in error.locator("pre").inner_text()
    assert page.locator(".head-line [data-status]").inner_text() == "Failed"
    assert [t for t in page.locator(".timeline-table th").all_inner_texts()][-1] == "Failed"


def test_models_are_listed_with_their_producing_run(studio, page):
    page.goto(studio("/models"))
    row = page.locator("#models tbody tr", has_text="curve-model")
    assert row.locator("td").nth(1).inner_text() == "1"
    assert "stage=demo" in row.inner_text() and "lr=0.1" in row.inner_text()
    with page.expect_download() as download:
        row.get_by_text("download").click()
    assert download.value.suggested_filename == "model.txt"
    row.locator("a.runid").click()
    page.wait_for_url(re.compile(re.escape(studio.runs["first"])))
    assert page.locator("h1").inner_text().endswith(studio.runs["first"])


def test_compare_overlays_a_metric_of_two_selected_runs(studio, page):
    page.goto(studio(f"/experiments/{EXPERIMENT}"))
    for run_id in (studio.runs["first"], studio.runs["second"]):
        page.locator(f'#runs tbody tr[data-run-id="{run_id}"] input[name=run]').check()
    page.locator("#compare-button").click()
    page.wait_for_url(re.compile(r"/compare\?run="))
    page.wait_for_selector('.chart[data-title="loss"][data-drawn]')
    chart = page.locator('.chart[data-title="loss"]')
    assert chart.get_attribute("data-points") == "80"                 # 40 steps from each run
    legend = chart.locator(".u-legend").inner_text()
    assert studio.runs["first"] in legend and studio.runs["second"] in legend
    table = page.locator("#compare-table").inner_text()
    assert "0.1" in table and "0.3" in table
    assert page.locator("#compare-table tr.differs th").all_inner_texts() == ["lr"]


def test_a_running_run_streams_its_log_and_its_status_without_a_reload(studio, page, tmp_path):
    stop = tmp_path / "stop"
    run = submit(open_workspace(studio.project), "train_slow.py", [str(stop)], experiment="studio-live", wait=False)
    page.goto(studio(f"/runs/{run.id}?tab=outputs"))
    log = page.locator("#log")
    page.wait_for_function("() => /tick 3\\n/.test(document.querySelector('#log').textContent)")
    page.evaluate("() => { window.notReloaded = true; }")
    seen = log.inner_text().count("tick")
    page.wait_for_function(f"() => (document.querySelector('#log').textContent.match(/tick/g) || []).length > {seen + 5}")
    stop.write_text("")
    page.wait_for_selector(".log-state:has-text('The run ended Completed')")
    assert "stopping" in log.inner_text()
    assert page.locator(".head-line [data-status]").inner_text() == "Completed"
    assert page.evaluate("() => window.notReloaded") is True              # the same page all along


def test_runs_table_follows_a_running_run_to_its_end(studio, page, tmp_path):
    stop = tmp_path / "stop"
    run = submit(open_workspace(studio.project), "train_slow.py", [str(stop)], experiment="studio-table-live",
                 wait=False)
    page.goto(studio("/experiments/studio-table-live"))
    status = page.locator(f'#runs tr[data-run-id="{run.id}"] [data-status]')
    assert status.inner_text() != "Completed"
    stop.write_text("")
    deadline = time.monotonic() + 30
    while status.inner_text() != "Completed" and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert status.inner_text() == "Completed"


def test_hostile_names_tags_files_and_logs_are_shown_as_text(studio, page):
    run_id = studio.runs["hostile"]
    page.goto(studio(f"/runs/{run_id}"))
    assert '<script>alert(2)</script>="><svg onload=alert(3)>' in page.locator(".tag").first.inner_text()
    page.goto(studio(f"/runs/{run_id}?tab=metrics"))
    page.wait_for_selector(".chart[data-drawn]")
    assert "<img src=x onerror=alert(1)>" in page.locator(".chart-card figcaption").inner_text()
    page.goto(studio(f"/runs/{run_id}?tab=outputs"))
    assert "</pre><script>alert(5)</script>" in page.locator("#log").inner_text()
    assert "<img src=x onerror=alert(6)>.html" in page.locator("li.file a").all_inner_texts()
    assert page.locator("script:not([src])").count() == 0             # no inline script at all


def test_a_large_log_is_paged_from_its_end(studio, page):
    run = submit(open_workspace(studio.project), "train_verbose.py", experiment="studio-verbose")
    page.goto(studio(f"/runs/{run.id}?tab=outputs"))
    log = page.locator("#log")
    text = log.inner_text()
    assert text.rstrip().endswith("line 05999 " + "x" * 60)
    assert "line 00000 " not in text and text.startswith("line ")             # the last page, whole lines
    earlier = page.locator("button.earlier")
    while earlier.is_visible():
        before = len(log.inner_text())
        earlier.click()
        page.wait_for_function(f"() => document.querySelector('#log').textContent.length > {before}")
    lines = log.inner_text().splitlines()
    assert [line.split()[1] for line in lines if line.startswith("line ")] == [f"{i:05d}" for i in range(6000)]
