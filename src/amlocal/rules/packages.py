"""The distribution name in a pip requirement ("scikit-learn==1.5.2" -> "scikit-learn")."""

import re

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(requirement):
    """The project name a pip requirement string installs, as written ("" when it names none,
    e.g. a URL or an option)."""
    match = _NAME.match(str(requirement))
    return match.group(1) if match else ""


def canonical_name(requirement):
    """The normalised name (PEP 503) of a requirement: lower case, runs of -_. as one '-'."""
    return re.sub(r"[-_.]+", "-", requirement_name(requirement)).lower()
