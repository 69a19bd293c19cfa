"""The id of a workspace home on this host (run ids are ``amlocal.rules.names.new_run_id``)."""

import hashlib
import os


def home_id(root):
    """A stable id of one local workspace (its directory under AMLOCAL_HOME), carried by every
    container label, so cleaning one home never touches another's containers."""
    return hashlib.sha256(os.path.realpath(str(root)).encode()).hexdigest()[:16]
