"""The Sweep page, over a real HyperDrive sweep run by the process backend: a grid of six
children of a stdlib script, each logging the accuracy its arguments give."""

import json
import math
import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from .conftest import start_studio, stop_studio
from .real_runs import SCRIPTS, make_workspace, open_workspace

EXPERIMENT = "studio-sweep"
METRIC = "accuracy"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """(project, HyperDriveRun) of a finished sweep: lr 0.01/0.1/0.5 x optimizer sgd/adam."""
    from amlocal.core import Environment, Experiment, ScriptRunConfig
    from amlocal.train.hyperdrive import GridParameterSampling, HyperDriveConfig, PrimaryMetricGoal, choice

    project = make_workspace(tmp_path_factory.mktemp("sweep") / "project", name="sweep-ws")
    trial = ScriptRunConfig(source_directory=str(SCRIPTS), script="sweep_trial.py",
                            arguments=["--lr", 0.1, "--optimizer", "sgd"], environment=Environment("studio-tests"))
    config = HyperDriveConfig(run_config=trial, primary_metric_name=METRIC,
                              primary_metric_goal=PrimaryMetricGoal.MAXIMIZE, max_total_runs=6, max_concurrent_runs=3,
                              hyperparameter_sampling=GridParameterSampling(
                                  {"--lr": choice(0.01, 0.1, 0.5), "--optimizer": choice("sgd", "adam")}))
    run = Experiment(open_workspace(project), EXPERIMENT).submit(config)
    run.wait_for_completion(raise_on_error=True)
    return project, run


@pytest.fixture(scope="module")
def served_sweep(sweep):
    project, run = sweep
    process, url = start_studio(project)
    yield url.rstrip("/"), run
    stop_studio(process)


def _answers(url):
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


def test_sweeps_list_names_the_best_child(served_sweep, page):
    base, run = served_sweep
    best = run.get_best_run_by_primary_metric()
    page.goto(base + "/sweeps")
    rows = page.locator("#sweeps tbody tr")
    assert rows.count() == 1
    cells = rows.first.locator("td").all_inner_texts()
    assert cells[0] == run.id and cells[1] == "Completed" and cells[2] == EXPERIMENT
    assert cells[5].split() == [METRIC, "maximize"]
    value, best_id = cells[6].split()
    assert best_id == best.id
    assert float(value) == pytest.approx(max(best.get_metrics()[METRIC]))       # its best epoch, not its last
    assert cells[7] == "6 of 6"
    rows.first.locator("a.runid").first.click()
    page.wait_for_url(re.compile(re.escape(f"/sweeps/{run.id}") + "$"))
    page.goto(f"{base}/experiments/{EXPERIMENT}")                               # the parent among its children
    assert page.locator("#runs tbody tr").count() == 7
    parent_row = page.locator(f'#runs tbody tr[data-run-id="{run.id}"]')
    assert parent_row.locator("a.kind").inner_text() == "sweep"
    assert "_aml_system_" not in page.locator("#runs").inner_text()             # the plan stays out of the tags
    parent_row.locator("a.kind").click()
    page.wait_for_url(re.compile(re.escape(f"/sweeps/{run.id}") + "$"))


def test_sweep_page_lists_children_with_their_parameters_and_primary_metric(served_sweep, page):
    base, run = served_sweep
    expected = {c["run_id"]: c for c in run.get_children_sorted_by_primary_metric()}
    parameters = {key: json.loads(value) for key, value in run.get_hyperparameters().items()}
    page.goto(f"{base}/sweeps/{run.id}")
    headers = page.locator("#sweep-children thead th").all_inner_texts()
    assert headers == ["#", "Run", "Status", "Duration", "--lr", "--optimizer", METRIC]
    rows = page.locator("#sweep-children tbody tr")
    assert rows.count() == 6
    for index in range(6):
        row = rows.nth(index)
        child_id = row.get_attribute("data-run-id")
        cells = row.locator("td").all_inner_texts()
        assert cells[0] == str(index) and child_id == f"{run.id}_{index}"
        assert cells[2] == "Completed"
        assert float(cells[4]) == parameters[child_id]["--lr"] and cells[5] == parameters[child_id]["--optimizer"]
        assert float(cells[6]) == pytest.approx(expected[child_id]["best_primary_metric"])
    best = run.get_best_run_by_primary_metric()
    best_row = page.locator("#sweep-children tbody tr.best")
    assert best_row.get_attribute("data-run-id") == best.id
    assert parameters[best.id] == {"--lr": 0.1, "--optimizer": "adam"}          # what the script makes best
    assert page.locator("#best-child a.runid").inner_text() == best.id

    page.locator("#sweep-children thead th", has_text=METRIC).click()           # sort by the metric
    page.locator("#sweep-children thead th", has_text=METRIC).click()           # descending
    rows = page.locator("#sweep-children tbody tr").all()
    shown = [float(r.locator("td").nth(6).inner_text()) for r in rows]
    assert shown == sorted((c["best_primary_metric"] for c in expected.values()), reverse=True)
    assert rows[0].get_attribute("data-run-id") == best.id


def test_best_so_far_chart_draws_every_child_and_the_running_best(served_sweep, page):
    base, run = served_sweep
    progress = _answers(f"{base}/api/sweeps/{run.id}/progress")
    best_so_far, each = progress["series"][0]["y"], progress["series"][1]["y"]
    assert progress["x"] == list(range(6))
    assert best_so_far == [max(each[:i + 1]) for i in range(6)]
    assert best_so_far[-1] == pytest.approx(run.get_children_sorted_by_primary_metric()[0]["best_primary_metric"])
    page.goto(f"{base}/sweeps/{run.id}")
    chart = page.locator("#best-so-far")
    chart.locator("canvas").wait_for()
    page.wait_for_selector("#best-so-far[data-drawn]")
    assert chart.get_attribute("data-points") == "12"
    legend = chart.locator(".u-legend").inner_text()
    assert "child run" in legend and f"{METRIC} (each child)" in legend and "best so far" in legend


def test_parallel_coordinates_draw_a_line_per_child_through_each_hyperparameter(served_sweep, page):
    base, run = served_sweep
    page.goto(f"{base}/sweeps/{run.id}")
    svg = page.locator("svg#parallel")
    assert [a.get_attribute("data-axis") for a in svg.locator("g.pc-axis").all()] == ["--lr", "--optimizer", METRIC]
    assert svg.locator('g[data-axis="--optimizer"] text.pc-tick').all_text_contents() == ["adam", "sgd"]
    lines = svg.locator("polyline.pc-line")
    assert lines.count() == 6
    for index in range(6):
        assert len(lines.nth(index).get_attribute("points").split()) == 3           # lr, optimizer, metric
    best = run.get_best_run_by_primary_metric()
    assert svg.locator("polyline.pc-best").get_attribute("data-run-id") == best.id
    # the best child sits at the top of the metric axis, the worst at its bottom
    metric_axis = svg.locator(f'g[data-axis="{METRIC}"] line')
    top, bottom = float(metric_axis.get_attribute("y1")), float(metric_axis.get_attribute("y2"))
    ends = {line.get_attribute("data-run-id"): float(line.get_attribute("points").split()[-1].split(",")[1])
            for line in lines.all()}
    ranked = run.get_children_sorted_by_primary_metric()
    assert math.isclose(ends[ranked[0]["run_id"]], top) and math.isclose(ends[ranked[-1]["run_id"]], bottom)
    # a click on a line opens its child: here half way between the optimizer and metric axes,
    # where the best child's line is alone
    x, y = svg.locator(f'polyline[data-run-id="{best.id}"]').evaluate(
        """line => { const [a, b] = [line.points[1], line.points[2]], m = line.getScreenCTM();
                     const x = (a.x + b.x) / 2, y = (a.y + b.y) / 2; return [x * m.a + m.e, y * m.d + m.f]; }""")
    page.mouse.click(x, y)
    page.wait_for_url(re.compile(re.escape(f"/runs/{best.id}") + "$"))
    assert best.id in page.locator("h1").inner_text()


def test_the_parent_run_page_lists_its_children_and_leads_to_the_sweep(served_sweep, page):
    base, run = served_sweep
    children = [f"{run.id}_{n}" for n in range(6)]
    page.goto(f"{base}/runs/{run.id}")
    page.get_by_text("Child runs (6)").click()
    expect(page.locator("table.grid a.runid")).to_have_text(children)               # oldest first, once shown
    page.goto(f"{base}/runs/{children[2]}")
    assert page.locator("table.kv a.runid").inner_text() == run.id                 # a child links its parent
    page.goto(f"{base}/runs/{run.id}")
    assert "system tags" in page.locator("#system-tags").inner_text()              # the sweep's plan, not listed
    page.locator("#sweep-link").click()
    page.wait_for_url(re.compile(re.escape(f"/sweeps/{run.id}") + "$"))
    assert page.locator("h1").inner_text().endswith(run.id)
    with pytest.raises(urllib.error.HTTPError) as refused:
        _answers(f"{base}/api/sweeps/{run.id}_0")
    assert refused.value.code == 404
    assert "is not a HyperDrive sweep" in json.loads(refused.value.read())["error"]


def test_a_sweep_with_hostile_records_is_shown_without_trusting_them(tmp_path):
    """Tags and metrics come from jobs: broken JSON, values that are not numbers, a goal that is
    no goal and a child not named <parent>_<n> are shown as missing, never crash the page."""
    from amlocal.studio.data import StudioData

    workspace = open_workspace(make_workspace(tmp_path / "project"))
    history = workspace.run_history
    parent = "HD_hostile"
    history.create_run(parent, EXPERIMENT, "process", run_type="hyperdrive")
    history.set_tags(parent, {"_aml_system_primary_metric_config": '{"name": "loss", "goal": "sideways"}',
                              f"_aml_system_{parent}_0": '{"--lr": 0.1, "--act": "<script>x</script>"}',
                              f"_aml_system_{parent}_1": "not json", f"_aml_system_{parent}_2": "[1, 2]",
                              "_aml_system_generator_config": "{", "_aml_system_max_total_jobs": "-3"})
    for child in (f"{parent}_0", f"{parent}_1", f"{parent}_2", "stray-child"):
        history.create_run(child, EXPERIMENT, "process", parent_run_id=parent)
    history.log_metric(f"{parent}_0", "loss", 0.5)
    history.log_metric(f"{parent}_1", "loss", float("nan"))
    history.log_metric(f"{parent}_2", "loss", "high")
    sweep = StudioData(workspace).sweep(parent)
    assert sweep["primary_metric"] == {"name": "loss", "goal": None}
    by_id = {child["run_id"]: child for child in sweep["children"]}
    assert [child["number"] for child in sweep["children"]] == [0, 1, 2, None]
    assert by_id[f"{parent}_0"]["parameters"] == {"--lr": 0.1, "--act": "<script>x</script>"}
    assert by_id[f"{parent}_1"]["parameters"] == {} and by_id[f"{parent}_2"]["parameters"] == {}
    assert [by_id[f"{parent}_{n}"]["metric"] for n in range(3)] == [0.5, None, None]
    assert sweep["best"]["run_id"] == f"{parent}_0" and sweep["limits"]["max_total_runs"] is None
    assert [axis["name"] for axis in sweep["parallel"]["axes"]] == ["--lr", "--act", "loss"]
    assert [line["run_id"] for line in sweep["parallel"]["lines"]] == [f"{parent}_0"]
