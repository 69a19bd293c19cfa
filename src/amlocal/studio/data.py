"""The studio's one door to a workspace: plain dicts read through the workspace's stores
(``workspace.run_history``, ``workspace.model_registry``) and its execution backend's
``get_status``/``get_details``/``cancel`` (``amlocal.execution``; asking a local backend for a
status notices a run whose supervisor died).

The pages, the JSON API under them and the CLI's ``--json`` all take their data from here, so
they show the same thing, and a change of the store interfaces is adapted to in this module
alone. Nothing here imports the web server: the CLI uses it without the ``ui`` extra.

Everything read is hostile (run names, tags, metric names, file names, log text): this module
returns it as data; the templates escape it and the server contains file names.
"""

import json
import math
import time

from ..exceptions import ModelNotFoundError, RunError, RunNotFoundError
from ..rules.statuses import TERMINAL as TERMINAL_STATUSES
from ..specs import argument_text
from .downsample import min_max_buckets

CHART_BUCKETS = 1000          # a chart is at most ~1,000 px wide: 2 points per pixel column
LOG_PAGE_BYTES = 64 * 1024
MAX_TABLE_ROWS = 500          # rows of a logged table shown on a page (the JSON API has them all)


class NotAvailable(Exception):
    """This workspace's run history cannot answer a read the studio needs (the studio reads
    local workspaces; Azure ML's own studio shows runs on Azure)."""


class StudioData:
    def __init__(self, workspace):
        self.workspace = workspace

    # -- the workspace ---------------------------------------------------------------------------
    @property
    def history(self):
        return self.workspace.run_history

    @property
    def registry(self):
        return self.workspace.model_registry

    @property
    def backend_name(self):
        return self.workspace.backend_name

    @property
    def is_local(self):
        return self.local_root is not None

    @property
    def local_root(self):
        """The directory of a local workspace (docker and process backends); None elsewhere."""
        from .._local.stores import LocalStores

        stores = self.workspace.stores
        return stores.layout.root if isinstance(stores, LocalStores) else None

    def _data_backend(self):
        return self.workspace.backend

    def workspace_info(self):
        return {"name": self.workspace.name, "backend": self.backend_name, "local": self.is_local}

    # -- experiments and runs ------------------------------------------------------------------------
    def experiments(self):
        """[{name, runs, active, statuses: {status: count}, last_created}] by name."""
        summary = {name: {"name": name, "runs": 0, "active": 0, "statuses": {}, "last_created": None}
                   for name in self.history.list_experiments()}
        for record in self.history.list_runs():
            entry = summary.setdefault(record["experiment"], {"name": record["experiment"], "runs": 0, "active": 0,
                                                              "statuses": {}, "last_created": None})
            entry["runs"] += 1
            entry["statuses"][record["status"]] = entry["statuses"].get(record["status"], 0) + 1
            entry["active"] += record["status"] not in TERMINAL_STATUSES
            entry["last_created"] = max(entry["last_created"] or 0, record["created"] or 0)
        return sorted(summary.values(), key=lambda e: e["name"])

    def runs(self, experiment=None, limit=None, run_ids=None):
        """Run summaries (newest first) with their tags, parsed arguments and last metric values."""
        try:
            records = self.history.runs_with_metrics(experiment=experiment, limit=limit, run_ids=run_ids)
        except NotImplementedError as err:
            raise NotAvailable(str(err)) from err
        return [self._summary(record) for record in self._refreshed(records)]

    def run(self, run_id):
        """One run's summary plus its environment, error, status timeline, logs and children."""
        record = self._refreshed([self.history.get_run(run_id)])[0]
        summary = self._summary(record, metrics=None)
        summary.update(
            environment=record.get("environment") or {},
            error=record.get("error"),
            timeline=timeline(self.history.status_timeline(run_id), record["status"]),
            logs=self.log_names(run_id),
            children=[self._summary(child, metrics=None) for child in self.history.child_runs(run_id)],
        )
        return summary

    def sweep(self, run_id):
        """A HyperDrive sweep's page data (``amlocal.studio.sweeps``): its run summary, primary
        metric, children with their parameters and metric, the best child, the best-so-far
        series and the parallel coordinates. RunError when the run is not a sweep."""
        from .sweeps import sweep_summary

        record = self._refreshed([self.history.get_run(run_id)])[0]
        child_ids = [child["run_id"] for child in self.history.child_runs(run_id)]
        children = self._refreshed(self.history.runs_with_metrics(run_ids=child_ids))
        return {"run": self._summary(record, metrics=None),
                **sweep_summary(self.history, record, [self._summary(child) for child in children])}

    def sweeps(self, experiment=None):
        """[{run summary, primary_metric, best, children}] of the workspace's sweeps, newest
        first; ``best`` is the last row of the sweep's own best_child_by_primary_metric table."""
        from .sweeps import is_sweep, sweep_row

        records = self.history.list_runs(experiment=experiment)
        counts = {}
        for record in records:
            if record.get("parent_run_id"):
                counts[record["parent_run_id"]] = counts.get(record["parent_run_id"], 0) + 1
        sweep_ids = [record["run_id"] for record in records if is_sweep(record)]
        parents = self._refreshed(self.history.runs_with_metrics(run_ids=sweep_ids)) if sweep_ids else []
        return [sweep_row(self.history, self._summary(parent), parent.get("tags") or {},
                          counts.get(parent["run_id"], 0)) for parent in parents]

    def run_details(self, run_id):
        """What ``amlocal run show --json`` prints: ``get_details()`` with metrics and files."""
        details = self._data_backend().get_details(run_id)
        return {**details, "metrics": self.history.get_metrics(run_id), "files": self.history.list_files(run_id)}

    def statuses(self, run_ids):
        """{run_id: {status, duration, end_time}} of the given runs, refreshed."""
        records = self._refreshed(self.history.runs_with_metrics(run_ids=list(run_ids)))
        return {r["run_id"]: {"status": r["status"], "duration": elapsed(r), "terminal": r["status"] in
                              TERMINAL_STATUSES} for r in records}

    def _refreshed(self, records):
        """Runs not yet ended are asked of the backend, which notices a dead supervisor."""
        fresh = []
        for record in records:
            if record["status"] not in TERMINAL_STATUSES:
                try:
                    status = self._data_backend().get_status(record["run_id"])
                except RunError:
                    status = record["status"]
                if status != record["status"]:
                    extra = {k: record[k] for k in ("metrics", "tags") if k in record}
                    record = {**self.history.get_run(record["run_id"]), **extra}
            fresh.append(record)
        return fresh

    def _summary(self, record, metrics=True):
        arguments = [argument_text(a) for a in record.get("arguments") or []]
        summary = {
            "run_id": record["run_id"], "experiment": record["experiment"], "status": record["status"],
            "terminal": record["status"] in TERMINAL_STATUSES, "created": record.get("created"),
            "start_time": record.get("start_time"), "end_time": record.get("end_time"), "duration": elapsed(record),
            "compute_target": record.get("compute_target") or "local", "backend": record.get("backend"),
            "script": record.get("script"), "arguments": arguments, "params": parse_params(arguments),
            "tags": record.get("tags") or {}, "parent_run_id": record.get("parent_run_id"),
            "run_type": record.get("run_type"),
            "error": (record.get("error") or {}).get("message") if isinstance(record.get("error"), dict) else None,
        }
        if metrics:
            summary["metrics"] = record.get("metrics") or {}
        return summary

    # -- metrics ---------------------------------------------------------------------------------
    def metric_rows(self, run_id, name=None):
        self.history.get_run(run_id)  # RunNotFoundError before an empty answer
        try:
            return self.history.metric_rows(run_id, name)
        except NotImplementedError as err:
            raise NotAvailable(str(err)) from err

    def metrics(self, run_id):
        """One entry per metric name, in the order first logged: {name, kind, count,
        description, view} where ``view`` says how to show it (chart, value, table, images,
        confusion_matrix) and holds what a page shows without a chart."""
        self.history.get_run(run_id)
        out = []
        for entry in self.history.metric_names(run_id):
            if entry["kind"] == "scalar" and entry["count"] > 1:
                # A series: charted from its own read; its rows are not needed here.
                out.append({**entry, "description": "", "view": "chart"})
            else:
                out.append(describe_metric(entry["name"], self.metric_rows(run_id, entry["name"])))
        return out

    def metric_series(self, run_id, name, buckets=CHART_BUCKETS):
        """A chart's data: {name, kind, count, downsampled, x, series: [{label, y}]}; scalars over
        their steps, lists over their index, rows and tables one series per numeric column.
        Long series are reduced per bucket to their min and max, so a spike stays visible."""
        return self._series(run_id, name, buckets, missing_ok=False)

    def _series(self, run_id, name, buckets, missing_ok):
        entry = next((e for e in self.history.metric_names(run_id) if e["name"] == name), None)
        if entry is None:
            if missing_ok:
                return None
            raise RunError(f"Run {run_id} has no metric {name!r}.")
        if entry["kind"] == "scalar":
            return scalar_series(name, self.history.scalar_points(run_id, name), buckets)
        return series_of(name, self.metric_rows(run_id, name), buckets)

    # -- files and logs -----------------------------------------------------------------------
    def files(self, run_id):
        return self.history.list_files(run_id)

    def snapshot_files(self, run_id):
        return self.history.list_snapshot_files(run_id)

    def open_file(self, run_id, name, snapshot=False):
        """A binary file object of a run (or snapshot) file; RunError when there is none.
        The run history contains the name within the run's files."""
        try:
            return self.history.open_file(run_id, name, snapshot=snapshot)
        except (ValueError, OSError) as err:  # NUL bytes, a name too long, a vanished file
            raise RunError(f"Run {run_id} has no file {name!r}.") from err
        except NotImplementedError as err:
            raise NotAvailable(str(err)) from err

    def log_names(self, run_id):
        names = list(self.history.log_names(run_id))
        return names + [n for n in self.history.list_files(run_id) if n.startswith("logs/") and n not in names]

    def log_page(self, run_id, name, start=None, before=None, limit=LOG_PAGE_BYTES):
        """Whole lines of a log: from byte ``start`` on, or the page ending at byte ``before``,
        or (neither given) its last page. {name, start, end, size, text, complete} where
        ``complete`` says the run has ended and ``end`` is the end of the log."""
        terminal = self.history.get_run(run_id)["status"] in TERMINAL_STATUSES
        if name not in self.log_names(run_id):  # not written yet (or never will be): nothing to read
            return {"name": name, "start": 0, "end": 0, "size": 0, "text": "", "complete": terminal}
        with self.open_file(run_id, name) as handle:
            size = handle.seek(0, 2)
            if start is None:
                end = size if before is None else max(0, min(int(before), size))
                begin = max(0, end - limit)
                handle.seek(begin)
                data = handle.read(end - begin)
                if begin > 0:  # start on a line boundary
                    cut = data.find(b"\n") + 1
                    begin, data = begin + cut, data[cut:]
            else:
                begin = max(0, min(int(start), size))
                handle.seek(begin)
                data = handle.read(limit)
            end = begin + len(data)
            if not (terminal and end == size):  # a line still being written waits for its newline
                data = data[:data.rfind(b"\n") + 1]
                end = begin + len(data)
        return {"name": name, "start": begin, "end": end, "size": size, "text": data.decode("utf-8", "replace"),
                "complete": terminal and end == size}

    # -- comparing ---------------------------------------------------------------------------------
    def compare(self, run_ids):
        """The runs (in the order given) and the metric names worth overlaying."""
        runs = {r["run_id"]: r for r in self.runs(run_ids=list(run_ids))}
        missing = [run_id for run_id in run_ids if run_id not in runs]
        if missing:
            raise RunNotFoundError(f"No run {missing[0]!r} in this workspace.")
        ordered = [runs[run_id] for run_id in run_ids]
        charted = []
        for run in ordered:
            for metric in self.metrics(run["run_id"]):
                if metric["view"] == "chart" and metric["name"] not in charted:
                    charted.append(metric["name"])
        params = sorted({k for r in ordered for k in r["params"]})
        differs = [k for k in params if len({json.dumps(r["params"].get(k)) for r in ordered}) > 1]
        return {"runs": ordered, "charts": charted, "differs": differs,
                "params": params,
                "metrics": sorted({k for r in ordered for k in r["metrics"]}),
                "tags": sorted({k for r in ordered for k in r["tags"]})}

    def compare_series(self, run_ids, name, buckets=CHART_BUCKETS):
        """[{run_id, x, y}] of metric ``name`` (its first series) for each run that logged it."""
        out = []
        for run_id in run_ids:
            series = self._series(run_id, name, buckets, missing_ok=True)
            if series:
                if series["series"]:
                    out.append({"run_id": run_id, "kind": series["kind"], "x": series["x"],
                                "y": series["series"][0]["y"]})
        return out

    # -- actions (only when the studio allows them) ----------------------------------------------------
    def cancel_run(self, run_id):
        self.history.get_run(run_id)
        self._data_backend().cancel(run_id)

    def set_tag(self, run_id, key, value):
        self.history.get_run(run_id)
        self.history.set_tags(run_id, {str(key): str(value)})

    # -- models ------------------------------------------------------------------------------------
    def models(self, name=None):
        return [model_dict(record) for record in self.registry.list(name=name)]

    def model(self, name, version):
        return model_dict(self.registry.get(name, int(version)))

    def model_path(self, name, version):
        """A local path of the model's file or directory."""
        try:
            return self.registry.local_path(name, int(version))
        except (ValueError, TypeError) as err:
            raise ModelNotFoundError(f"No model {name}:{version}.") from err


# -- plain functions over records ----------------------------------------------------------------

def elapsed(record):
    """From the start (or, before it started, the submission) to the end, or to now while it runs."""
    begin = record.get("start_time") or record.get("created")
    end = record.get("end_time")
    if end is None and record.get("status") not in TERMINAL_STATUSES:
        end = time.time()
    return None if begin is None or end is None else max(0.0, end - begin)


def timeline(entries, current_status):
    """[{status, time, seconds}] where seconds is how long the run stayed in that status (until
    now for the status it is still in)."""
    out = []
    for index, (status, when) in enumerate(entries):
        if index + 1 < len(entries):
            seconds = entries[index + 1][1] - when
        else:
            seconds = None if current_status in TERMINAL_STATUSES else time.time() - when
        out.append({"status": status, "time": when, "seconds": seconds})
    return out


def parse_params(arguments):
    """Hyperparameters from script arguments: ``--kernel linear --penalty 1.0 --flag`` ->
    {kernel: "linear", penalty: 1.0, flag: True}; ``--lr=0.1`` works too."""
    params, index = {}, 0
    while index < len(arguments):
        item = arguments[index]
        index += 1
        if not item.startswith("-") or item in ("-", "--") or _number(item) is not None:
            continue
        key, sep, value = item.lstrip("-").partition("=")
        if not key:
            continue
        if not sep:
            following = arguments[index] if index < len(arguments) else None
            if following is not None and (not following.startswith("-") or _number(following) is not None):
                value, index = following, index + 1
            else:
                params[key] = True
                continue
        number = _number(value)
        params[key] = value if number is None else number
    return params


def _number(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _numeric(value):
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    return None


def scalar_series(name, points, buckets):
    """A scalar metric over its steps (the index where no step was logged), sorted by step."""
    xs = [index if step is None else step for index, (step, _) in enumerate(points)]
    ys = [_numeric(value) for _, value in points]
    if any(a > b for a, b in zip(xs, xs[1:])):
        order = sorted(range(len(xs)), key=xs.__getitem__)
        xs, ys = [xs[i] for i in order], [ys[i] for i in order]
    return _series_result(name, "scalar", len(points), xs, {name: ys}, buckets)


def series_of(name, rows, buckets):
    kind = rows[-1]["kind"]
    if kind == "scalar":
        return scalar_series(name, [(r["step"], r["value"]) for r in rows if r["kind"] == "scalar"], buckets)
    if kind == "list":
        values = rows[-1]["value"] or []
        xs, columns = list(range(len(values))), {name: [_numeric(v) for v in values]}
    elif kind in ("row", "table"):
        table = table_of(kind, rows)
        length = max((len(v) for v in table.values()), default=0)
        xs = list(range(length))
        columns = {key: [_numeric(v) for v in values] for key, values in table.items()
                   if any(_numeric(v) is not None for v in values)}
    else:
        xs, columns = [], {}
    return _series_result(name, kind, len(rows), xs, columns, buckets)


def _series_result(name, kind, count, xs, columns, buckets):
    result = {"name": name, "kind": kind, "count": count, "downsampled": False, "x": [], "series": []}
    columns = {key: ys for key, ys in columns.items() if any(y is not None for y in ys)}
    if not columns:
        return result
    if len(columns) == 1 and len(xs) > 2 * buckets + 2:
        (label, ys), = columns.items()
        xs, ys = min_max_buckets(xs, ys, buckets)
        columns, result["downsampled"] = {label: ys}, True
    elif len(xs) > 2 * buckets + 2:
        # Several columns share one x axis: keep every step that any column needs.
        keep = set()
        for ys in columns.values():
            reduced, _ = min_max_buckets(list(range(len(xs))), ys, buckets)
            keep.update(reduced)
        order = sorted(keep)
        xs = [xs[i] for i in order]
        columns = {key: [ys[i] for i in order] for key, ys in columns.items()}
        result["downsampled"] = True
    result["x"] = xs
    result["series"] = [{"label": key, "y": ys} for key, ys in columns.items()]
    return result


def table_of(kind, rows):
    """The columns of a row metric (one cell per ``log_row``) or of the last ``log_table``."""
    if kind == "table":
        value = rows[-1]["value"]
        return {str(k): list(v) if isinstance(v, list) else [v] for k, v in (value or {}).items()} \
            if isinstance(value, dict) else {}
    columns = {}
    row_values = [row["value"] for row in rows if row["kind"] == "row" and isinstance(row["value"], dict)]
    for position, value in enumerate(row_values):
        for key in value:
            columns.setdefault(str(key), [None] * position)
        for key, cells in columns.items():
            cells.append(value.get(key))
    return columns


def confusion_matrix(value):
    """{labels, matrix, max} from azureml's confusion-matrix JSON (a dict or its text)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict):
        return None
    data = value.get("data", value)
    matrix = data.get("matrix") if isinstance(data, dict) else None
    if not isinstance(matrix, list) or not all(isinstance(r, list) for r in matrix):
        return None
    labels = data.get("class_labels") or list(range(len(matrix)))
    cells = [c for r in matrix for c in r if _numeric(c) is not None]
    return {"labels": [str(label) for label in labels], "matrix": matrix, "max": max(cells, default=0)}


def describe_metric(name, rows):
    kind = rows[-1]["kind"]
    entry = {"name": name, "kind": kind, "count": len(rows), "description": rows[-1].get("description") or ""}
    if kind == "scalar":
        numeric = [_numeric(r["value"]) for r in rows]
        if len(rows) > 1 and any(v is not None for v in numeric):
            entry.update(view="chart", last=rows[-1]["value"])
        else:
            entry.update(view="value", value=rows[-1]["value"] if len(rows) == 1 else [r["value"] for r in rows])
    elif kind == "list":
        values = rows[-1]["value"] or []
        chart = any(_numeric(v) is not None for v in values) and len(values) > 1
        entry.update(view="chart" if chart else "value", value=values[:MAX_TABLE_ROWS])
    elif kind in ("row", "table"):
        table = table_of(kind, rows)
        length = max((len(v) for v in table.values()), default=0)
        chart = length > 1 and any(any(_numeric(c) is not None for c in v) for v in table.values())
        entry.update(view="table", chart=chart, columns=list(table),
                     rows=[[table[c][i] if i < len(table[c]) else None for c in table]
                           for i in range(min(length, MAX_TABLE_ROWS))], total_rows=length)
    elif kind == "image":
        entry.update(view="images", images=[r["value"].get("artifact") for r in rows
                                            if isinstance(r["value"], dict) and r["value"].get("artifact")])
    elif kind == "confusion_matrix":
        entry.update(view="confusion_matrix", matrix=confusion_matrix(rows[-1]["value"]), value=rows[-1]["value"])
    else:
        entry.update(view="value", value=rows[-1]["value"])
    return entry


def model_dict(record):
    return {"name": record.name, "version": record.version, "id": record.id, "run_id": record.run_id,
            "tags": record.tags or {}, "properties": record.properties or {}, "description": record.description,
            "created_time": record.created_time, "framework": record.model_framework,
            "framework_version": record.model_framework_version}
