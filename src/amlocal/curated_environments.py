"""Azure ML's curated environments, as local definitions (filled in by the curated table)."""

from .exceptions import EnvironmentNotFoundError

CURATED = {}


def is_curated_name(name):
    return isinstance(name, str) and name.lower().startswith("azureml-")


def known_names():
    return sorted(CURATED)


def lookup(name):
    for known, spec in CURATED.items():
        if known.lower() == str(name).lower():
            return spec
    raise EnvironmentNotFoundError(f"Unknown curated environment {name!r}. Known: {', '.join(known_names())}.")
