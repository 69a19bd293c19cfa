"""Run history for the local backends: rows in the workspace database, files under runs/<id>/."""

import json
import os
import shutil
import time
from collections import deque
from pathlib import Path

from ..exceptions import RunError, RunNotFoundError
from ..run_history import RunHistory, TERMINAL_STATUSES

# Logs in the order a run writes them (names as on Azure ML).
BUILD_LOG = "azureml-logs/20_image_build_log.txt"
CONTROL_LOG = "azureml-logs/60_control_log.txt"
DRIVER_LOG = "azureml-logs/70_driver_log.txt"
LOG_ORDER = (BUILD_LOG, CONTROL_LOG, DRIVER_LOG)


def _loads(text, default=None):
    return json.loads(text) if text else default


class LocalRunHistory(RunHistory):
    def __init__(self, store, layout):
        self.store = store
        self.layout = layout

    # -- runs ------------------------------------------------------------------------------
    def create_run(self, run_id, experiment, backend, script, arguments, compute_target, environment):
        now = time.time()
        with self.store.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO experiments (name, created) VALUES (?, ?)", (experiment, now))
            conn.execute(
                "INSERT INTO runs (run_id, experiment, status, created, backend, script, arguments,"
                " compute_target, environment) VALUES (?, ?, 'NotStarted', ?, ?, ?, ?, ?, ?)",
                (run_id, experiment, now, backend, script, json.dumps(arguments), compute_target,
                 json.dumps(environment)))
            conn.execute("INSERT INTO run_status VALUES (?, 'NotStarted', ?)", (run_id, now))
        self.layout.run_files(run_id).mkdir(parents=True, exist_ok=True)

    def list_experiments(self):
        return [row["name"] for row in self.store.read("SELECT name FROM experiments ORDER BY name")]

    def _row(self, run_id):
        rows = self.store.read("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        if not rows:
            raise RunNotFoundError(f"No run {run_id!r} in workspace {self.layout.root}. "
                                   "`amlocal run list` shows the runs there are.")
        return rows[0]

    def _record(self, row):
        record = dict(row)
        record["arguments"] = _loads(record["arguments"], [])
        record["environment"] = _loads(record["environment"], {})
        record["error"] = _loads(record["error"])
        return record

    def get_run(self, run_id):
        record = self._record(self._row(run_id))
        record["tags"] = self.get_tags(run_id)
        return record

    def list_runs(self, experiment=None, limit=None):
        sql, params = "SELECT * FROM runs", []
        if experiment:
            sql += " WHERE experiment = ?"
            params.append(experiment)
        sql += " ORDER BY created DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [self._record(row) for row in self.store.read(sql, params)]

    def set_status(self, run_id, status, error=None):
        """Move the run to ``status``; a terminal status is final (later calls are ignored)."""
        now = time.time()
        with self.store.transaction() as conn:
            current = conn.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if current is None:
                raise RunNotFoundError(f"No run {run_id!r}")
            if current["status"] in TERMINAL_STATUSES:
                return False
            sets = ["status = ?"]
            params = [status]
            if status == "Running":
                sets.append("start_time = ?")
                params.append(now)
            if status in TERMINAL_STATUSES:
                sets.append("end_time = ?")
                params.append(now)
            if error is not None:
                sets.append("error = ?")
                params.append(json.dumps(error))
            conn.execute(f"UPDATE runs SET {', '.join(sets)} WHERE run_id = ?", (*params, run_id))
            conn.execute("INSERT INTO run_status VALUES (?, ?, ?)", (run_id, status, now))
        return True

    def set_supervisor(self, run_id, pid, start_marker):
        self.store.write("UPDATE runs SET supervisor_pid = ?, supervisor_start = ? WHERE run_id = ?",
                         (pid, start_marker, run_id))

    def request_cancel(self, run_id):
        self.store.write("UPDATE runs SET cancel_requested = 1 WHERE run_id = ?", (run_id,))

    def cancel_requested(self, run_id):
        return bool(self._row(run_id)["cancel_requested"])

    def status_timeline(self, run_id):
        rows = self.store.read("SELECT status, time FROM run_status WHERE run_id = ? ORDER BY rowid", (run_id,))
        return [(row["status"], row["time"]) for row in rows]

    # -- metrics and tags ----------------------------------------------------------------------
    def log_metric(self, run_id, name, value, kind="scalar", step=None, description="", when=None):
        self.log_metrics(run_id, [dict(name=name, value=value, type=kind, step=step,
                                       description=description, time=when)])

    def log_metrics(self, run_id, metrics):
        rows = [(run_id, m["name"], m.get("type", "scalar"), json.dumps(m.get("value")), m.get("step"),
                 m.get("description") or "", m.get("time") or time.time()) for m in metrics]
        with self.store.transaction() as conn:
            conn.executemany("INSERT INTO metrics (run_id, name, kind, value, step, description, time)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def get_metrics(self, run_id, name=None):
        sql = "SELECT name, kind, value FROM metrics WHERE run_id = ?"
        params = [run_id]
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        rows = self.store.read(sql + " ORDER BY id", params)
        return aggregate_metrics((row["name"], row["kind"], json.loads(row["value"])) for row in rows)

    def set_tags(self, run_id, tags):
        with self.store.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)",
                             [(run_id, str(k), None if v is None else str(v)) for k, v in tags.items()])

    def get_tags(self, run_id):
        rows = self.store.read("SELECT key, value FROM tags WHERE run_id = ? ORDER BY key", (run_id,))
        return {row["key"]: row["value"] for row in rows}

    # -- files ---------------------------------------------------------------------------------
    def list_files(self, run_id):
        self._row(run_id)
        root = self.layout.run_files(run_id)
        if not root.is_dir():
            return []
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    def file_path(self, run_id, name):
        root = self.layout.run_files(run_id)
        path = (root / name).resolve()
        if root.resolve() not in path.parents or not path.is_file():
            files = self.list_files(run_id)
            raise RunError(f"Run {run_id} has no file {name!r}. Its files: {', '.join(files) or '(none)'}")
        return path

    def download_file(self, run_id, name, output_file_path):
        source = self.file_path(run_id, name)
        target = Path(output_file_path)
        if target.is_dir():
            target = target / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return str(target)

    def upload_file(self, run_id, name, path_or_stream):
        target = _safe_join(self.layout.run_files(run_id), name)
        target.parent.mkdir(parents=True, exist_ok=True)
        if hasattr(path_or_stream, "read"):
            data = path_or_stream.read()
            target.write_bytes(data.encode() if isinstance(data, str) else data)
        else:
            shutil.copyfile(path_or_stream, target)

    def read_log(self, run_id, name, offset=0, final=False):
        path = self.layout.run_files(run_id) / name
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                data = handle.read()
        except FileNotFoundError:
            return "", offset
        # Whole lines only (unless final), so a reader never splits a multi-byte character or a line.
        end = len(data) if final else data.rfind(b"\n") + 1
        return data[:end].decode("utf-8", "replace"), offset + end

    def log_names(self, run_id):
        root = self.layout.run_files(run_id)
        return [name for name in LOG_ORDER if (root / name).exists()]

    def streamed_log_names(self, run_id):
        # The control log lasts the whole run, so it is not streamed between the build and the
        # driver logs; it stays in the run's files (`amlocal run logs` shows it).
        return [name for name in self.log_names(run_id) if name != CONTROL_LOG]


    # -- reads for browsing (the studio, `run list` columns) ----------------------------------

    def metric_rows(self, run_id, name=None):
        sql = "SELECT name, kind, value, step, time, description FROM metrics WHERE run_id = ?"
        params = [run_id]
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        return [{"name": name, "kind": kind, "value": _json_value(value), "step": step, "time": when,
                 "description": description}
                for name, kind, value, step, when, description in self.store.read_tuples(sql + " ORDER BY id", params)]

    def metric_names(self, run_id):
        rows = self.store.read(
            "SELECT g.name, m.kind, g.count FROM (SELECT name, max(id) AS last, min(id) AS first, count(*) AS count"
            " FROM metrics WHERE run_id = ? GROUP BY name) g JOIN metrics m ON m.id = g.last ORDER BY g.first",
            (run_id,))
        return [{"name": row[0], "kind": row[1], "count": row[2]} for row in rows]

    def scalar_points(self, run_id, name):
        rows = self.store.read_tuples("SELECT step, value FROM metrics WHERE run_id = ? AND name = ?"
                                      " AND kind = 'scalar' ORDER BY id", (run_id, name))
        return [(step, _json_value(value)) for step, value in rows]

    def runs_with_metrics(self, experiment=None, limit=None, run_ids=None):
        where, params = [], []
        if experiment:
            where.append("experiment = ?")
            params.append(experiment)
        if run_ids is not None:
            where.append(f"run_id IN ({', '.join('?' * len(run_ids))})" if run_ids else "0")
            params.extend(run_ids)
        chosen = ("WITH chosen AS (SELECT run_id FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
                  + " ORDER BY created DESC, rowid DESC" + (f" LIMIT {int(limit)}" if limit else "") + ") ")
        records = [self._record(row) for row in self.store.read(
            chosen + "SELECT runs.* FROM runs JOIN chosen USING (run_id) ORDER BY created DESC, runs.rowid DESC",
            params)]
        by_id = {record["run_id"]: record for record in records}
        for record in records:
            record["tags"], record["metrics"] = {}, {}
        for row in self.store.read(chosen + "SELECT run_id, key, value FROM tags WHERE run_id IN chosen ORDER BY key",
                                   params):
            by_id[row[0]]["tags"][row[1]] = row[2]
        # The last value of each scalar metric: the highest id per (run, name).
        for row in self.store.read(
                chosen + "SELECT m.run_id, m.name, m.value FROM metrics m JOIN (SELECT max(id) AS id FROM metrics"
                " WHERE run_id IN chosen AND kind = 'scalar' GROUP BY run_id, name) last ON m.id = last.id"
                " ORDER BY m.name", params):
            by_id[row[0]]["metrics"][row[1]] = json.loads(row[2]) if row[2] else None
        return records

    def child_runs(self, run_id):
        if "parent_run_id" not in self._run_columns():
            return []
        rows = self.store.read("SELECT * FROM runs WHERE parent_run_id = ? ORDER BY created, rowid", (run_id,))
        return [self._record(row) for row in rows]

    def _run_columns(self):
        return {row[1] for row in self.store.read("PRAGMA table_info(runs)")}

    def list_snapshot_files(self, run_id):
        self._row(run_id)
        root = self.layout.run_snapshot(run_id)
        if not root.is_dir():
            return []
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and not p.is_symlink())

    def open_file(self, run_id, name, snapshot=False):
        if not snapshot:
            return open(self.file_path(run_id, name), "rb")
        root = self.layout.run_snapshot(run_id).resolve()
        path = (root / str(name)).resolve()
        if root not in path.parents or not path.is_file():
            raise RunError(f"Run {run_id} has no snapshot file {name!r}.")
        return open(path, "rb")


def _json_value(text):
    """json.loads, with a fast path for the plain numbers most metric values are (a long
    series is read for every chart)."""
    if not text:
        return None
    if text[0] in "-0123456789" and text.lstrip("-").isdigit():
        return int(text)
    try:
        return float(text) if text[0] in "-0123456789NI" else json.loads(text)
    except ValueError:
        return json.loads(text)


def _safe_join(root, name):
    name = str(name).replace("\\", "/")
    if name.startswith("/") or ".." in name.split("/"):
        raise RunError(f"Invalid run file name {name!r}: use a relative path without '..'.")
    return Path(root) / name


def aggregate_metrics(rows):
    """azureml's shapes: scalar once -> value, several -> list; list -> list; row -> dict of
    column lists; table -> the dict; image -> artifact reference; confusion_matrix -> value."""
    scalars, result = {}, {}
    for name, kind, value in rows:
        if kind == "scalar":
            scalars.setdefault(name, []).append(value)
            result[name] = None
        elif kind == "row":
            columns = result.get(name) if isinstance(result.get(name), dict) else {}
            for key, cell in (value or {}).items():
                columns.setdefault(key, []).append(cell)
            result[name] = columns
        elif kind == "image":
            result[name] = f"aml://artifactId/{value.get('artifact')}" if isinstance(value, dict) else value
        else:
            result[name] = value
    for name, values in scalars.items():
        result[name] = values[0] if len(values) == 1 else values
    return result


def tail(path, lines):
    """The last ``lines`` lines of a text file ('' if it does not exist)."""
    try:
        with open(path, "rb") as handle:
            return "".join(line.decode("utf-8", "replace") for line in deque(handle, maxlen=lines))
    except OSError:
        return ""

