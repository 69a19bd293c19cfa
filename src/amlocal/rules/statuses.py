"""Run statuses as Azure ML reports them, and the one table of legal transitions.

A run moves forward through ``ORDER`` (skipping is allowed: a run can fail while Queued);
``CancelRequested`` can be reported from any status that is not final, and a run whose cancel
was requested still ends with whatever really happened (Canceled, or Completed/Failed when it
ended first); after it, only Finalizing and a final status are recorded. A final status is
final: ``transition`` says to ignore any later write, so the first writer of a final status
wins (a reader can never overwrite what the supervisor wrote). Going backwards is a bug and
raises ``IllegalStatusTransition``.
"""

NOT_STARTED = "NotStarted"
QUEUED = "Queued"
PREPARING = "Preparing"
STARTING = "Starting"
RUNNING = "Running"
FINALIZING = "Finalizing"
CANCEL_REQUESTED = "CancelRequested"
COMPLETED = "Completed"
FAILED = "Failed"
CANCELED = "Canceled"

#: The order Azure ML documents for a run (``azureml.core.Run.get_status``; the service's
#: JobStatus "strict transition order"): Starting once the run is being processed, Preparing
#: while its environment (image) is built, Queued while it waits for a node of its compute
#: target, then Running. Provisioning, listed between Starting and Preparing, is documented as
#: not used. Local runs go through the same order. A client sees only the statuses it polls, so
#: it may see fewer; never another order.
ORDER = (NOT_STARTED, STARTING, PREPARING, QUEUED, RUNNING, FINALIZING)
AMLCOMPUTE_ORDER = ORDER
TERMINAL = frozenset({COMPLETED, FAILED, CANCELED})
ALL = frozenset(ORDER) | TERMINAL | {CANCEL_REQUESTED}


class IllegalStatusTransition(ValueError):
    """A status change that Azure ML never makes (for example Running back to Queued)."""


def is_terminal(status):
    return status in TERMINAL


def is_past(current, status):
    """Whether a run in ``current`` has already reached or passed ``status`` (or ended)."""
    if current in TERMINAL or current == CANCEL_REQUESTED:
        return True
    return current in ORDER and status in ORDER and ORDER.index(current) >= ORDER.index(status)


def transition(current, new):
    """Whether moving from ``current`` to ``new`` changes anything.

    Returns True when ``new`` should be recorded, False when it must be ignored (``current``
    is final, or ``new`` repeats it). Raises IllegalStatusTransition for a status Azure ML
    does not have, or a move backwards."""
    if new not in ALL:
        raise IllegalStatusTransition(f"{new!r} is not a run status; statuses are {', '.join(sorted(ALL))}")
    if current in TERMINAL or new == current:
        return False
    if new in TERMINAL or new == CANCEL_REQUESTED:
        return True
    if current == CANCEL_REQUESTED:
        # a run being canceled may still finalize; news of its earlier progress is moot
        return new == FINALIZING
    if current not in ORDER or ORDER.index(new) < ORDER.index(current):
        raise IllegalStatusTransition(f"a run cannot go from {current} back to {new}")
    return True


def run_error(message, code, log_tail=None):
    """The ``error`` of a failed or canceled run's details: Azure ML's shape ({"error": {"code",
    "message"}}) with the same fields at the top for readers of amlocal's older shape."""
    error = {"error": {"code": code, "message": message}, "message": message, "code": code}
    if log_tail:
        error["log_tail"] = log_tail
    return error
