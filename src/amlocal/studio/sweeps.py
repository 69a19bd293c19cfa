"""A HyperDrive sweep as the studio shows it: plain data read from run history, no web code.

A sweep is a parent run of type "hyperdrive" (``amlocal.sweeps``). What it planned is in its
tags, as Azure ML keeps them: ``_aml_system_<parent>_<n>`` holds child n's parameters as JSON,
``_aml_system_primary_metric_config`` the primary metric's name and goal; its children are the
runs whose parent it is (ids ``<parent>_<n>``). A child's primary metric is the best value it
reported for the goal (``amlocal.train.hyperdrive._goal.best_of``, the rule the sweep itself
and ``HyperDriveRun.get_children_sorted_by_primary_metric`` use).

Everything here is hostile input (tag values, parameter names, metric values): JSON that does
not parse or numbers that are not finite are left out, never trusted.
"""

import json
import math

from ..exceptions import HyperDriveConfigException, RunError
from ..rules.statuses import TERMINAL
from ..sweeps import BEST_CHILD_TABLE, PLANNED_TAG
from ..train.hyperdrive._goal import PrimaryMetricGoal, as_goal, best_of, is_better

SWEEP_RUN_TYPE = "hyperdrive"
CONFIG_TAGS = {"sampling": "_aml_system_generator_config", "policy": "_aml_system_policy_config",
               "primary_metric": "_aml_system_primary_metric_config"}
LIMIT_TAGS = {"max_total_runs": "_aml_system_max_total_jobs", "max_concurrent_runs": "_aml_system_max_concurrent_jobs",
              "max_duration_minutes": "_aml_system_max_duration_minutes"}
MAX_CATEGORIES = 40          # a categorical axis with more values shows every one but labels only some


def is_sweep(record):
    return record.get("run_type") == SWEEP_RUN_TYPE


def sweep_summary(history, parent, children):
    """The sweep page's data. ``parent``: the parent's run record (with ``tags``); ``children``:
    the children's summaries (``StudioData._summary``), any order.

    Returns {run_id, primary_metric: {name, goal}, sampling, policy, limits, parameters,
    children (by child number, each with number, parameters and metric), best, counts,
    progress: {x, values, best} (the best-so-far chart), parallel (the parallel coordinates)}."""
    if not is_sweep(parent):
        raise RunError(f"Run {parent['run_id']} is not a HyperDrive sweep (its type is {parent.get('run_type')!r}); "
                       f"its page is /runs/{parent['run_id']}.")
    tags = parent.get("tags") or {}
    run_id = parent["run_id"]
    metric_config = _json_object(tags.get(CONFIG_TAGS["primary_metric"]))
    metric = str(metric_config.get("name") or "")
    try:
        goal = as_goal(metric_config.get("goal"))
    except HyperDriveConfigException:  # no goal: shown as unknown, the best taken as the highest
        goal = None
    sampling = _json_object(tags.get(CONFIG_TAGS["sampling"]))
    planned = planned_parameters(run_id, tags)
    rows = []
    for child in children:
        number = child_number(run_id, child["run_id"])
        parameters = planned.get(number)
        if parameters is None:
            parameters = _json_object(child["tags"].get("hyperparameters"))
        rows.append({**child, "number": number, "parameters": parameters,
                     "metric": child_metric(history, child["run_id"], metric, goal)})
    rows.sort(key=lambda row: (row["number"] is None, row["number"] or 0, row["run_id"]))
    space = sampling.get("parameter_space")
    names = [str(name) for name in space] if isinstance(space, dict) else []
    for row in rows:
        names += [name for name in row["parameters"] if name not in names]
    best = best_child(rows, goal)
    for row in rows:
        row["best"] = best is not None and row["run_id"] == best["run_id"]
    counts = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return {
        "run_id": run_id, "primary_metric": {"name": metric, "goal": goal.name.lower() if goal else None},
        "sampling": sampling.get("name"), "policy": _json_object(tags.get(CONFIG_TAGS["policy"])).get("name"),
        "limits": {key: _int(tags.get(tag)) for key, tag in LIMIT_TAGS.items()},
        "parameters": names, "children": rows, "best": best, "counts": counts,
        "numeric_parameters": [name for name in names
                               if _numeric_column([row["parameters"].get(name) for row in rows])],
        "active": sum(1 for row in rows if row["status"] not in TERMINAL),
        "progress": progress(rows, goal), "parallel": parallel_coordinates(names, rows, metric, goal),
    }


def sweep_row(history, summary, tags, children):
    """One line of the sweeps list: the parent's summary, its primary metric, its child count
    and the best child the sweep itself recorded (the last row of best_child_by_primary_metric)."""
    metric_config = _json_object(tags.get(CONFIG_TAGS["primary_metric"]))
    best = None
    rows = history.metric_rows(summary["run_id"], BEST_CHILD_TABLE)
    if rows and isinstance(rows[-1]["value"], dict):
        value = rows[-1]["value"]
        if isinstance(value.get("run_id"), str) and _finite(value.get("metric_value")):
            best = {"run_id": value["run_id"], "metric": value["metric_value"]}
    return {**summary, "primary_metric": {"name": str(metric_config.get("name") or ""),
                                          "goal": str(metric_config.get("goal") or "").lower() or None},
            "best": best, "children": children,
            "sampling": _json_object(tags.get(CONFIG_TAGS["sampling"])).get("name"),
            "max_total_runs": _int(tags.get(LIMIT_TAGS["max_total_runs"]))}


def planned_parameters(run_id, tags):
    """{child number: parameters} from the parent's ``_aml_system_<parent>_<n>`` tags."""
    prefix = f"{PLANNED_TAG}{run_id}_"
    found = {}
    for key, value in tags.items():
        if key.startswith(prefix) and key[len(prefix):].isdigit():
            found[int(key[len(prefix):])] = _json_object(value)
    return found


def child_number(parent_id, child_id):
    suffix = child_id[len(parent_id) + 1:] if child_id.startswith(parent_id + "_") else ""
    return int(suffix) if suffix.isdigit() else None


def child_metric(history, run_id, name, goal):
    """The best value the child reported of the primary metric, or None."""
    if not name:
        return None
    values = [value for _, value in history.scalar_points(run_id, name) if _finite(value)]
    if not values:
        return None
    return best_of(values, goal or PrimaryMetricGoal.MAXIMIZE)


def best_child(rows, goal):
    """{run_id, number, metric} of the best child (the first to reach the best value), or None."""
    best = None
    for row in rows:
        if row["metric"] is not None and (best is None or is_better(row["metric"], best["metric"],
                                                                    goal or PrimaryMetricGoal.MAXIMIZE)):
            best = {"run_id": row["run_id"], "number": row["number"], "metric": row["metric"]}
    return best


def progress(rows, goal):
    """The best-so-far chart: x the child numbers, ``values`` each child's metric (None without),
    ``best`` the best value among children 0..x."""
    xs, values, bests, best = [], [], [], None
    for index, row in enumerate(rows):
        value = row["metric"]
        if value is not None and (best is None or is_better(value, best, goal or PrimaryMetricGoal.MAXIMIZE)):
            best = value
        xs.append(row["number"] if row["number"] is not None else index)
        values.append(value)
        bests.append(best)
    return {"x": xs, "values": values, "best": bests}


# -- parallel coordinates ----------------------------------------------------------------------------

PC_WIDTH, PC_HEIGHT = 1200, 360
PC_LEFT, PC_RIGHT, PC_TOP, PC_BOTTOM = 60, 60, 34, 24
PC_SHADES = 10


def parallel_coordinates(names, rows, metric, goal=None):
    """An SVG's worth of geometry (the template draws it; no style attributes, the CSP forbids
    them): one vertical axis per hyperparameter and one for the primary metric, one line per
    child through its values. Numeric axes are linear from their minimum (bottom) to their
    maximum (top); other values are categories, spread evenly in sorted order. A line's
    ``shade`` (0..9) says how good its metric is for the goal (9: the best end of the metric
    axis); a child without the metric stops at the last hyperparameter axis.

    Returns {width, height, axes: [{name, x, ticks: [{y, label}], metric}], lines: [{run_id,
    number, points: "x,y x,y", shade, best, status, title}]}, or None with nothing to draw."""
    columns = [(name, [row["parameters"].get(name) for row in rows]) for name in names]
    columns.append((metric or "metric", [row["metric"] for row in rows]))
    if not rows or len(columns) < 2:
        return None
    step = (PC_WIDTH - PC_LEFT - PC_RIGHT) / (len(columns) - 1)
    axes, positions = [], []
    for index, (name, values) in enumerate(columns):
        x = round(PC_LEFT + index * step, 1)
        place, ticks = _axis(values, values_as_ticks=index < len(columns) - 1)
        axes.append({"name": name, "x": x, "ticks": ticks, "metric": index == len(columns) - 1, "first": index == 0})
        positions.append([None if place(v) is None else (x, place(v)) for v in values])
    low, high = _span([row["metric"] for row in rows])
    lines = []
    for row_index, row in enumerate(rows):
        points = [positions[column][row_index] for column in range(len(columns))]
        if row["metric"] is None:
            points = points[:-1]
        drawn = [point for point in points if point is not None]
        if len(drawn) < 2:
            continue
        shade = None
        if row["metric"] is not None and high is not None:
            shade = PC_SHADES - 1 if high == low else \
                min(PC_SHADES - 1, int((row["metric"] - low) / (high - low) * PC_SHADES))
            if goal is PrimaryMetricGoal.MINIMIZE and high != low:
                shade = PC_SHADES - 1 - shade
        values = ", ".join(f"{name}={_label(row['parameters'].get(name))}" for name in names)
        lines.append({"run_id": row["run_id"], "number": row["number"], "best": row.get("best", False),
                      "status": row["status"], "shade": shade,
                      "points": " ".join(f"{x},{y}" for x, y in drawn),
                      "title": f"{row['run_id']}: {values}; {metric} = {_label(row['metric'])}"})
    lines.sort(key=lambda line: line["best"])  # the best child's line on top
    return {"width": PC_WIDTH, "height": PC_HEIGHT, "top": PC_TOP, "bottom": PC_HEIGHT - PC_BOTTOM, "axes": axes,
            "lines": lines}


MAX_VALUE_TICKS = 10


def _axis(values, values_as_ticks=False):
    """(value -> y or None, ticks) for one axis. A numeric hyperparameter that takes a few
    values is labelled with those values; other numeric axes with five even steps."""
    top, bottom = PC_TOP, PC_HEIGHT - PC_BOTTOM
    present = [v for v in values if v is not None]
    if _numeric_column(values):
        low, high = _span(present)
        if high == low:
            return (lambda v: None if not _finite(v) else round((top + bottom) / 2, 1)), \
                [{"y": round((top + bottom) / 2, 1), "label": _label(low)}]

        def place(v):
            return None if not _finite(v) else round(bottom - (v - low) / (high - low) * (bottom - top), 1)
        distinct = sorted(set(present))
        if values_as_ticks and len(distinct) <= MAX_VALUE_TICKS:
            ticks = [{"y": place(v), "label": _label(v)} for v in distinct]
        else:
            ticks = [{"y": place(low + (high - low) * i / 4), "label": _label(low + (high - low) * i / 4)}
                     for i in range(5)]
        return place, ticks
    categories = sorted({_label(v) for v in present})
    if not categories:
        return (lambda v: None), []
    spacing = (bottom - top) / max(1, len(categories) - 1)
    where = {label: round(bottom - i * spacing, 1) if len(categories) > 1 else round((top + bottom) / 2, 1)
             for i, label in enumerate(categories)}
    every = max(1, -(-len(categories) // MAX_CATEGORIES))
    ticks = [{"y": where[label], "label": label} for i, label in enumerate(categories) if i % every == 0]
    return (lambda v: None if v is None else where.get(_label(v))), ticks


def _numeric_column(values):
    present = [v for v in values if v is not None]
    return bool(present) and all(_finite(v) for v in present)


def _span(values):
    numbers = [v for v in values if _finite(v)]
    return (min(numbers), max(numbers)) if numbers else (None, None)


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _label(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _json_object(text):
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _int(text):
    return int(text) if isinstance(text, str) and text.isdigit() else None
