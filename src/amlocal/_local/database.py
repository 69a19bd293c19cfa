"""The local workspace database: one SQLite file, WAL mode, with errors mapped to amlocal's."""

import os
import sqlite3
import threading
import time
from contextlib import contextmanager

from ..exceptions import StoreCorruptedError, StoreError, StoreFullError, StoreLockedError

SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (name TEXT PRIMARY KEY, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, experiment TEXT NOT NULL, status TEXT NOT NULL,
    created REAL NOT NULL, start_time REAL, end_time REAL, backend TEXT, compute_target TEXT,
    script TEXT, arguments TEXT, environment TEXT, error TEXT,
    cancel_requested INTEGER DEFAULT 0, parent_run_id TEXT, properties TEXT, run_type TEXT,
    ingest_state TEXT, cancel_reason TEXT);
CREATE INDEX IF NOT EXISTS runs_by_experiment ON runs (experiment, created);

CREATE TABLE IF NOT EXISTS run_status (run_id TEXT NOT NULL, status TEXT NOT NULL, time REAL NOT NULL);
CREATE INDEX IF NOT EXISTS run_status_by_run ON run_status (run_id);
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, name TEXT NOT NULL,
    kind TEXT NOT NULL, value TEXT, step INTEGER, description TEXT, time REAL NOT NULL);
CREATE INDEX IF NOT EXISTS metrics_by_run ON metrics (run_id, name);
CREATE TABLE IF NOT EXISTS tags (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT,
    PRIMARY KEY (run_id, key));
CREATE TABLE IF NOT EXISTS compute_targets (
    name TEXT PRIMARY KEY, type TEXT NOT NULL, vm_size TEXT, vm_priority TEXT,
    min_nodes INTEGER, max_nodes INTEGER, idle_seconds_before_scaledown INTEGER,
    provisioning_state TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS models (
    name TEXT NOT NULL, version INTEGER NOT NULL, run_id TEXT, tags TEXT, properties TEXT,
    description TEXT, created REAL NOT NULL, model_framework TEXT, model_framework_version TEXT,
    path TEXT NOT NULL, PRIMARY KEY (name, version));
"""


LATER_INDEXES = """
CREATE INDEX IF NOT EXISTS runs_by_parent ON runs (parent_run_id);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status);
"""

# Columns added since the first schema: a database made by an older amlocal gains them.
ADDED_COLUMNS = {"runs": {"parent_run_id": "TEXT", "properties": "TEXT", "run_type": "TEXT",
                          "ingest_state": "TEXT", "cancel_reason": "TEXT"}}


def _add_missing_columns(conn):
    for table, columns in ADDED_COLUMNS.items():
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name not in present:
                try:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
                except sqlite3.OperationalError as err:  # another process added it first
                    if "duplicate column" not in str(err):
                        raise


def _timeout():
    return float(os.environ.get("AMLOCAL_DB_TIMEOUT", "30"))


def _switch_to_wal(conn):
    """WAL is a property of the file, set once. Switching needs the database to itself, and
    SQLite answers "locked" at once (without its busy timeout) while another process is
    creating the same new database, so wait here, up to the same timeout."""
    deadline = time.monotonic() + _timeout()
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class Database:
    """One connection per process and thread; every public method of the history and the
    registry goes through ``read()`` or ``transaction()`` so SQLite errors become StoreErrors."""

    def __init__(self, path, before_create=None):
        self.path = path
        self._before_create = before_create
        self._local = threading.local()

    def connected(self):
        """Whether this process (this thread) has its connection open already."""
        return getattr(self._local, "conn", None) is not None and self._local.pid == os.getpid()

    def _connect(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        if not self.path.exists():
            if self._before_create is not None:
                self._before_create()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # SQLite gives its -wal and -shm files the database file's permissions.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        try:
            conn = sqlite3.connect(str(self.path), timeout=_timeout(), isolation_level=None)
            conn.row_factory = sqlite3.Row
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                _switch_to_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
            _add_missing_columns(conn)
            conn.executescript(LATER_INDEXES)
        except sqlite3.Error as err:
            raise self._translate(err) from err
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _translate(self, err):
        text = str(err)
        if isinstance(err, sqlite3.OperationalError) and "locked" in text:
            return StoreLockedError(
                f"The workspace database {self.path} is locked by another process and stayed locked "
                f"for {_timeout():g} s. Wait for that process to finish (or stop it) and try again; "
                "AMLOCAL_DB_TIMEOUT sets how long to wait.")
        if "disk is full" in text or "disk I/O error" in text:
            return StoreFullError(
                f"The workspace database {self.path} could not be written: {text}. Free disk space on that "
                "file system (`amlocal gc` removes old runs' files and unused images) and try again.")
        if isinstance(err, sqlite3.DatabaseError) and (
                "not a database" in text or "malformed" in text or "disk image" in text):
            return StoreCorruptedError(
                f"The workspace database {self.path} is corrupted ({text}). It was left untouched: "
                "restore it from a backup, or move it away to start an empty history "
                "(run files stay under the workspace's runs/ directory).")
        return StoreError(f"Workspace database {self.path}: {text}")

    def read(self, sql, params=()):
        try:
            return self._connect().execute(sql, params).fetchall()
        except sqlite3.Error as err:
            raise self._translate(err) from err

    def read_tuples(self, sql, params=()):
        """As ``read``, with plain tuples: half the cost of Row objects on long reads."""
        try:
            cursor = self._connect().cursor()
            cursor.row_factory = None
            return cursor.execute(sql, params).fetchall()
        except sqlite3.Error as err:
            raise self._translate(err) from err

    def write(self, sql, params=()):
        with self.transaction() as conn:
            conn.execute(sql, params)

    @contextmanager
    def transaction(self):
        """BEGIN IMMEDIATE: writers queue up instead of failing on upgrade deadlocks."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as err:
            raise self._translate(err) from err
        try:
            yield conn
        except sqlite3.Error as err:
            _rollback(conn)
            raise self._translate(err) from err
        except BaseException:
            _rollback(conn)
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as err:
            _rollback(conn)
            raise self._translate(err) from err


def _rollback(conn):
    """Roll back what is left of a transaction. SQLite may have rolled it back already (a
    failed COMMIT on a full disk does): then there is nothing to do, and the error that
    matters is the one being raised."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
