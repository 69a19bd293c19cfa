"""Names the local machinery gives: run ids, and the id of a workspace home on this host."""

import hashlib
import os
import time


def new_run_id(experiment):
    """Azure ML's shape: <experiment>_<epoch seconds>_<8 hex digits>."""
    return f"{experiment}_{int(time.time())}_{os.urandom(4).hex()}"


def home_id(root):
    """A stable id of one local workspace (its directory under AMLOCAL_HOME), carried by every
    container label, so cleaning one home never touches another's containers."""
    return hashlib.sha256(os.path.realpath(str(root)).encode()).hexdigest()[:16]
