"""Paths taken from a service, a job or a user, kept inside their root."""

from pathlib import Path


def inside(root, relative):
    """``root/relative``, refusing a path that leaves ``root`` (absolute, '..', or through a link)."""
    root = Path(root).resolve()
    parts = [p for p in str(relative or "").replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"path {relative!r} leaves its root")
    target = root.joinpath(*parts)
    resolved = target.resolve()
    if resolved != root and root not in resolved.parents:
        raise ValueError(f"path {relative!r} leaves its root")
    return target
