"""The dispatcher of a local workspace: starts queued runs as nodes free up, and adopts runs
whose supervisor died.

    python -m amlocal._local.dispatcher WORKSPACE_ROOT

One per workspace (``dispatcher.lock``); it leaves after a few idle seconds and is started
again by the next submit or reader that finds a run nobody follows (``dispatch``). Queued runs
cost no process of their own: a hundred queued runs are one row each and this one process.
Runs of a compute target start in submission order.
"""

import json
import os
import sys
import time

from ..rules import statuses
from . import dispatch, liveness
from .database import Database
from .layout import WorkspaceLayout
from .run_history import LocalRunHistory

POLL_SECONDS = 0.05
IDLE_EXIT_SECONDS = 3.0
FOLLOWED = (statuses.NOT_STARTED, statuses.QUEUED, statuses.PREPARING, statuses.STARTING, statuses.RUNNING,
            statuses.FINALIZING, statuses.CANCEL_REQUESTED)


class Dispatcher:
    def __init__(self, root):
        self.layout = WorkspaceLayout(root)
        self.history = LocalRunHistory(Database(self.layout.database), self.layout)

    def dispatch_once(self):
        """Start what can start now. Returns whether any run still waits for this process."""
        waiting = False
        blocked_targets = set()
        for record in self._unfinished():
            run_id = record["run_id"]
            if liveness.is_held(self.layout.supervisor_lock(run_id)):
                continue
            try:
                spec = json.loads(self.layout.run_spec(run_id).read_text())
            except (OSError, ValueError):
                self.history.set_status(run_id, statuses.FAILED, statuses.run_error(
                    f"The run's files under {self.layout.run_dir(run_id)} are missing or unreadable, so it cannot run. "
                    "Submit it again.", "RunFilesMissing"))
                continue
            compute = spec.get("compute")
            started = record["status"] not in (statuses.NOT_STARTED, statuses.QUEUED)
            if compute is None:
                dispatch.spawn_supervisor(self.layout, run_id, adopt=started)
                continue
            slots = dispatch.slots_of(self.layout, compute)
            if started:
                slot = slots.claim_own(run_id)
                if slot is not None or run_id not in slots.occupants().values():
                    dispatch.spawn_supervisor(self.layout, run_id, slot=slot, adopt=True)
                continue
            waiting = True
            if compute["name"] in blocked_targets:
                continue
            slot = slots.try_claim(run_id, self._has_ended)
            if slot is None:
                blocked_targets.add(compute["name"])
            elif slot.orphan:
                dispatch.spawn_supervisor(self.layout, slot.orphan, slot=slot, adopt=True)
                blocked_targets.add(compute["name"])
            else:
                dispatch.spawn_supervisor(self.layout, run_id, slot=slot)
        return waiting

    def unfollowed(self):
        """Queued runs that no supervisor follows yet."""
        return [r for r in self.history.list_runs(status=statuses.QUEUED)
                if not liveness.is_held(self.layout.supervisor_lock(r["run_id"]))]

    def _unfinished(self):
        records = [r for status in FOLLOWED for r in self.history.list_runs(status=status)]
        return sorted(records, key=lambda r: (r["created"], r["run_id"]))

    def _has_ended(self, run_id):
        try:
            return self.history.get_run(run_id)["status"] in statuses.TERMINAL
        except Exception:
            return True

    def serve(self):
        idle_since = time.monotonic()
        while True:
            if self.dispatch_once():
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > IDLE_EXIT_SECONDS:
                return
            time.sleep(POLL_SECONDS)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    dispatcher = Dispatcher(argv[0])
    while True:
        lock = liveness.hold(dispatcher.layout.dispatcher_lock, wait=0)
        if lock is None:
            return
        try:
            dispatcher.serve()
        finally:
            os.close(lock)
        # A run submitted while this process was deciding to leave found the lock held and
        # started no dispatcher: look once more now that the lock is free.
        if not dispatcher.unfollowed():
            return


if __name__ == "__main__":
    main()
