"""The dispatcher of a local workspace: starts runs held back while too many prepared at once,
starts queued runs as nodes free up, and adopts runs whose supervisor died.

    python -m amlocal._local.dispatcher WORKSPACE_ROOT [--lock-fd N]

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
from .full_disk import keep_going
from .layout import WorkspaceLayout
from .run_history import LocalRunHistory

POLL_SECONDS = 0.05
IDLE_EXIT_SECONDS = 3.0
FOLLOWED = (*statuses.ORDER, statuses.CANCEL_REQUESTED)


class Dispatcher:
    def __init__(self, root):
        self.layout = WorkspaceLayout(root)
        self.history = LocalRunHistory(Database(self.layout.database), self.layout)

    def dispatch_once(self):
        """Start what can start now. Returns whether any run still waits for this process."""
        waiting = False
        blocked_targets = set()
        preparing = dispatch.preparing_count(self.layout, self.history)
        for record in self._unfinished():
            run_id, status = record["run_id"], record["status"]
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
            if status in (statuses.NOT_STARTED, statuses.STARTING, statuses.PREPARING):
                # never started, held back, or its preparing supervisor died: (re)prepare it
                waiting = True
                if preparing < dispatch.MAX_PREPARING and dispatch.spawn_supervisor(self.layout, run_id):
                    preparing += 1
            elif status == statuses.QUEUED:
                waiting = True
                if compute is None or compute["name"] in blocked_targets:
                    continue
                slot = dispatch.claim_node(self.layout, self.history, run_id, compute)
                if slot is None:
                    blocked_targets.add(compute["name"])
                else:
                    dispatch.spawn_supervisor(self.layout, run_id, slot=slot)
            else:  # Running, Finalizing, CancelRequested: its supervisor died; adopt the run
                slot = dispatch.slots_of(self.layout, compute).claim_own(run_id) if compute else None
                if slot is not None or not compute or run_id not in dispatch.slots_of(
                        self.layout, compute).occupants().values():
                    dispatch.spawn_supervisor(self.layout, run_id, slot=slot, adopt=True)
        return waiting

    def unfollowed(self):
        """Runs waiting to start or for a node that no supervisor follows yet."""
        return [r for status in (statuses.NOT_STARTED, statuses.QUEUED) for r in self.history.list_runs(status=status)
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
    os.umask(0o077)  # the workspace's files are the user's only
    keep_going()
    dispatcher = Dispatcher(argv[0])
    # the process that started this one took the lock for it (``dispatch.ensure_dispatcher``)
    lock = int(argv[2]) if argv[1:2] == ["--lock-fd"] else None
    while True:
        if lock is None:
            lock = liveness.hold(dispatcher.layout.dispatcher_lock, wait=0)
        if lock is None:
            return
        try:
            dispatcher.serve()
        finally:
            os.close(lock)
            lock = None
        # A run submitted while this process was deciding to leave found the lock held and
        # started no dispatcher: look once more now that the lock is free.
        if not dispatcher.unfollowed():
            return


if __name__ == "__main__":
    main()
