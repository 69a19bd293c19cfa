"""Run history for the local backends: rows in the workspace database, files under runs/<id>/.

Besides the ``RunHistory`` interface it has the writes only the local machinery makes:
``create_run`` (at submit), ``set_status`` (the supervisor), ``log_metrics`` (the job's
events), cancel requests and deleting a finished run."""

import json
import os
import shutil
import time
from collections import deque
from pathlib import Path

from ..exceptions import RunError, RunNotFoundError
from ..rules import filters, metrics, statuses
from ..rules.models import string_tags
from ..stores.run_history import RunHistory, log_chunk
from .layout import make_private_dir

# Logs in the order a run writes them (names as on Azure ML).
BUILD_LOG = "azureml-logs/20_image_build_log.txt"
CONTROL_LOG = "azureml-logs/60_control_log.txt"
DRIVER_LOG = "azureml-logs/70_driver_log.txt"
SWEEP_LOG = "azureml-logs/hyperdrive.txt"
LOG_ORDER = (BUILD_LOG, CONTROL_LOG, DRIVER_LOG, SWEEP_LOG)


def _loads(text, default=None):
    return json.loads(text) if text else default


class LocalRunHistory(RunHistory):
    def __init__(self, store, layout):
        self.store = store
        self.layout = layout

    # -- runs ------------------------------------------------------------------------------
    def create_run(self, run_id, experiment, backend, script=None, arguments=(), compute_target=None,
                   environment=None, parent_run_id=None, properties=None, run_type="azureml.scriptrun",
                   statuses_now=(statuses.NOT_STARTED,)):
        """Record a new run whose timeline starts with ``statuses_now`` (all at this instant)."""
        now = time.time()
        with self.store.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO experiments (name, created) VALUES (?, ?)", (experiment, now))
            conn.execute(
                "INSERT INTO runs (run_id, experiment, status, created, backend, script, arguments,"
                " compute_target, environment, parent_run_id, properties, run_type)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, experiment, statuses_now[-1], now, backend, script, json.dumps(list(arguments)),
                 compute_target, json.dumps(environment or {}), parent_run_id, json.dumps(properties or {}),
                 run_type))
            conn.executemany("INSERT INTO run_status VALUES (?, ?, ?)", [(run_id, s, now) for s in statuses_now])
            if statuses.RUNNING in statuses_now:
                conn.execute("UPDATE runs SET start_time = ? WHERE run_id = ?", (now, run_id))
        make_private_dir(self.layout.run_files(run_id))

    def start_run(self, experiment):
        from ..rules.names import new_run_id

        run_id = new_run_id(experiment)
        self.create_run(run_id, experiment, "interactive", run_type="azureml.interactive",
                        statuses_now=(statuses.NOT_STARTED, statuses.RUNNING))
        return run_id

    def end_run(self, run_id, status, error=None):
        self.set_status(run_id, status, error)

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
        record["properties"] = _loads(record.get("properties"), {})
        return record

    def get_run(self, run_id):
        record = self._record(self._row(run_id))
        record["tags"] = self.get_tags(run_id)
        return record

    def list_runs(self, experiment=None, limit=None, tags=None, properties=None, parent_run_id=None,
                  run_type=None, status=None):
        where, params = [], []
        for column, value in (("experiment", experiment), ("parent_run_id", parent_run_id),
                              ("run_type", run_type), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created DESC, rowid DESC"
        tag_pairs, property_pairs = filters.run_filter_pairs(tags), filters.run_filter_pairs(properties)
        if limit and not tag_pairs and not property_pairs:
            sql += f" LIMIT {int(limit)}"
        records = [self._record(row) for row in self.store.read(sql, params)]
        if tag_pairs:
            all_tags = self._tags_of(record["run_id"] for record in records)
            records = [r for r in records if filters.matches(all_tags.get(r["run_id"], {}), tag_pairs)]
        if property_pairs:
            records = [r for r in records if filters.matches(r["properties"], property_pairs)]
        return records[:limit] if limit else records

    def _tags_of(self, run_ids):
        wanted = set(run_ids)
        found = {}
        for row in self.store.read("SELECT run_id, key, value FROM tags"):
            if row["run_id"] in wanted:
                found.setdefault(row["run_id"], {})[row["key"]] = row["value"]
        return found

    def set_status(self, run_id, status, error=None):
        """Move the run to ``status`` (``amlocal.rules.statuses.transition``): a final status is
        final, later writes are ignored. Returns whether the status was recorded."""
        now = time.time()
        with self.store.transaction() as conn:
            current = conn.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if current is None:
                raise RunNotFoundError(f"No run {run_id!r}")
            if not statuses.transition(current["status"], status):
                return False
            sets = ["status = ?"]
            params = [status]
            if status == "Running":
                sets.append("start_time = ?")
                params.append(now)
            if status in statuses.TERMINAL:
                sets.append("end_time = ?")
                params.append(now)
            if error is not None:
                sets.append("error = ?")
                params.append(json.dumps(error))
            conn.execute(f"UPDATE runs SET {', '.join(sets)} WHERE run_id = ?", (*params, run_id))
            conn.execute("INSERT INTO run_status VALUES (?, ?, ?)", (run_id, status, now))
        return True

    def request_cancel(self, run_id, reason=None):
        """Ask the run's supervisor to stop it; ``reason`` becomes its error message."""
        self.store.write("UPDATE runs SET cancel_requested = 1, cancel_reason = ? WHERE run_id = ?", (reason, run_id))

    def cancel_requested(self, run_id):
        return bool(self._row(run_id)["cancel_requested"])

    def cancel_reason(self, run_id):
        return self._row(run_id)["cancel_reason"]

    def delete_run(self, run_id):
        """Forget the run: its row, timeline, metrics and tags (its files are the caller's)."""
        self._row(run_id)
        with self.store.transaction() as conn:
            for table in ("runs", "run_status", "metrics", "tags"):
                conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))

    def status_timeline(self, run_id):
        rows = self.store.read("SELECT status, time FROM run_status WHERE run_id = ? ORDER BY rowid", (run_id,))
        return [(row["status"], row["time"]) for row in rows]

    # -- metrics and tags ----------------------------------------------------------------------
    def log_metric(self, run_id, name, value, kind="scalar", step=None, description="", when=None):
        self.log_metrics(run_id, [dict(name=name, value=value, type=kind, step=step,
                                       description=description, time=when)])

    def log_metrics(self, run_id, metrics):
        with self.store.transaction() as conn:
            _insert_metrics(conn, run_id, metrics)

    def ingest_state(self, run_id):
        """How far recording the job's events has got (``amlocal._local.events.IngestState``
        as a dict), so a process that takes over the run goes on from there."""
        return _loads(self._row(run_id)["ingest_state"], {})

    def record_events(self, run_id, metrics, tags, state):
        """Record a batch of the job's events and the ingestion ``state`` after it, in one
        transaction, so no event is ever recorded twice."""
        with self.store.transaction() as conn:
            _insert_metrics(conn, run_id, metrics)
            _upsert_tags(conn, run_id, tags)
            conn.execute("UPDATE runs SET ingest_state = ? WHERE run_id = ?", (json.dumps(state), run_id))

    def get_metrics(self, run_id, name=None, populate=False):
        rows = self.metric_rows(run_id, name)
        return metrics.aggregate(((row["name"], row["kind"], row["value"]) for row in rows), run_id, populate)

    def metric_rows(self, run_id, name=None):
        """Every value logged, oldest first: dicts of name, kind, value, step, description, time."""
        sql = "SELECT name, kind, value, step, description, time FROM metrics WHERE run_id = ?"
        params = [run_id]
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        return [{"name": name, "kind": kind, "value": _json_value(value), "step": step, "description": description,
                 "time": when}
                for name, kind, value, step, description, when in self.store.read_tuples(sql + " ORDER BY id", params)]

    def set_tags(self, run_id, tags):
        with self.store.transaction() as conn:
            _upsert_tags(conn, run_id, tags)

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

    def read_log(self, run_id, name, offset=0, final=False, max_bytes=None):
        path = self.layout.run_files(run_id) / name
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                data = handle.read(max_bytes) if max_bytes else handle.read()
        except FileNotFoundError:
            return "", offset
        # Whole lines only (unless final), so a reader never splits a multi-byte character or a line.
        end = log_chunk(data, final, max_bytes)
        return data[:end].decode("utf-8", "replace"), offset + end

    def log_names(self, run_id):
        root = self.layout.run_files(run_id)
        return [name for name in LOG_ORDER if (root / name).exists()]

    def streamed_log_names(self, run_id):
        # The control log lasts the whole run, so it is not streamed between the build and the
        # driver logs; it stays in the run's files (`amlocal run logs` shows it).
        return [name for name in self.log_names(run_id) if name != CONTROL_LOG]

    # -- reads for browsing (the studio, `run list` columns) ----------------------------------
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


def _insert_metrics(conn, run_id, metrics):
    """``metrics``: dicts of name, type, value, step, description, time (the job's event shape)."""
    conn.executemany("INSERT INTO metrics (run_id, name, kind, value, step, description, time) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [(run_id, m["name"], m.get("type", "scalar"), json.dumps(m.get("value")), m.get("step"),
                       m.get("description") or "", m.get("time") or time.time()) for m in metrics])


def _upsert_tags(conn, run_id, tags):
    conn.executemany("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)",
                     [(run_id, key, value) for key, value in string_tags(tags).items()])


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


def tail(path, lines):
    """The last ``lines`` lines of a text file ('' if it does not exist)."""
    try:
        with open(path, "rb") as handle:
            return "".join(line.decode("utf-8", "replace") for line in deque(handle, maxlen=lines))
    except OSError:
        return ""

