"""A damaged or busy workspace database gives an amlocal error that says what to do, and is
never reset behind the user's back."""

import gc
import sqlite3
import time

import pytest

from amlocal.core import Experiment, Model, Run, Workspace
from amlocal.exceptions import StoreCorruptedError, StoreLockedError

from .conftest import write_config

GARBAGE = bytes(range(256)) * 64


def _used_database(workspace_dir):
    """A database amlocal wrote (one run, one metric), with every connection to it closed."""
    ws = Workspace.from_config(backend="process")
    run = Experiment(ws, "exp").start_logging()
    run.log("acc", 0.9)
    run_id = run.id
    del ws, run
    gc.collect()
    database = workspace_dir / "amlocal.db"
    assert not (workspace_dir / "amlocal.db-wal").exists(), "a connection is still open"
    return database, run_id


@pytest.mark.parametrize("damage", ["garbage file", "damaged header"])
def test_corrupted_database_is_reported_and_left_untouched(project, workspace_dir, damage):
    write_config(project)
    if damage == "garbage file":
        workspace_dir.mkdir(parents=True)
        database, run_id = workspace_dir / "amlocal.db", "exp_1_00000000"
        database.write_bytes(GARBAGE)
    else:
        database, run_id = _used_database(workspace_dir)
        with open(database, "r+b") as handle:
            handle.write(GARBAGE[:100])
    before = database.read_bytes()
    ws = Workspace.from_config(backend="process")

    for action in (lambda: Experiment(ws, "exp").start_logging(), lambda: Model.list(ws),
                   lambda: Run.get(ws, run_id)):
        with pytest.raises(StoreCorruptedError) as caught:
            action()
        message = str(caught.value)
        assert str(database) in message
        assert "left untouched" in message and "backup" in message

    assert database.read_bytes() == before


def test_locked_database_fails_fast_with_advice(project, workspace_dir, monkeypatch):
    monkeypatch.setenv("AMLOCAL_DB_TIMEOUT", "0.3")
    write_config(project)
    ws = Workspace.from_config(backend="process")
    run = Experiment(ws, "exp").start_logging()
    run.log("before", 1)
    (project / "m.txt").write_text("model")
    blocker = sqlite3.connect(str(workspace_dir / "amlocal.db"), isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreLockedError) as caught:
            run.log("during", 2)
        elapsed = time.monotonic() - started

        message = str(caught.value)
        assert 0.25 <= elapsed < 2.0  # the default wait is 30 s
        assert "locked by another process" in message and "0.3 s" in message
        assert "try again" in message and "AMLOCAL_DB_TIMEOUT" in message
        # reading does not wait for the writer (WAL)
        assert run.get_metrics() == {"before": 1}
        with pytest.raises(StoreLockedError):
            Model.register(ws, str(project / "m.txt"), "m")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()

    run.log("after", 3)
    assert run.get_metrics() == {"before": 1, "after": 3}
    assert Model.register(ws, str(project / "m.txt"), "m").version == 1
    assert not (workspace_dir / "models" / ".staging").exists() or not any(
        (workspace_dir / "models" / ".staging").iterdir())
