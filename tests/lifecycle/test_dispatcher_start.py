"""A burst of callers that each find no dispatcher running (a burst of submissions, queued runs'
supervisors leaving) starts one dispatcher, not one each: a new dispatcher takes a second or
so to start, and every caller in that window used to start its own."""

import time

from amlocal._local import dispatch
from amlocal.testing import pids_matching
from support import wait_until


def dispatcher_pids(root):
    """Pids of the dispatcher processes of the workspace at ``root`` (by their command line)."""
    return pids_matching(lambda command: dispatch.DISPATCHER_MODULE.encode() in command
                         and str(root).encode() in command)


def test_a_burst_of_callers_starts_one_dispatcher(process_ws):
    layout = process_ws.stores.layout
    layout.ensure_root()

    for _ in range(5):
        dispatch.ensure_dispatcher(layout)

    seen = set()
    deadline = time.monotonic() + 2.0  # a dispatcher started in vain lives at least its start-up
    while time.monotonic() < deadline:
        seen.update(dispatcher_pids(layout.root))
        time.sleep(0.005)
    assert len(seen) == 1, f"{len(seen)} dispatcher processes started for one workspace"
    # with nothing to do it leaves after its idle time, and the next caller starts it again
    wait_until(lambda: not dispatcher_pids(layout.root), 30, "the idle dispatcher to leave")
    dispatch.ensure_dispatcher(layout)
    wait_until(lambda: dispatcher_pids(layout.root), 10, "a dispatcher started again")
    wait_until(lambda: not dispatcher_pids(layout.root), 30, "the idle dispatcher to leave")
