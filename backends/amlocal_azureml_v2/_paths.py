"""Paths taken from a service, a job or a user, kept inside their root."""

from pathlib import Path

from amlocal.rules.paths import contained


def inside(root, relative, field="path"):
    """``root/relative``, refusing (PathOutsideRootError) a path that leaves ``root``: absolute,
    '..', or through a link (``amlocal.rules.paths.contained``, the one containment rule).
    Returned unresolved, so a last part that is a link inside the root is acted on itself."""
    text = str(relative or "").replace("\\", "/")
    contained(root, text, field)
    return Path(root).joinpath(*[part for part in text.split("/") if part not in ("", ".")])
