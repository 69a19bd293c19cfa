"""The names a local workspace turns into directories are checked before any path is built."""

import re

from ..exceptions import InvalidArgumentError

_RULES = {
    # Azure asks 3 to 33 characters; local workspaces also take shorter names
    "workspace": (re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,32}$"),
                  "at most 33 letters, digits, '-' or '_', starting with a letter or digit", "my-workspace"),
    "run": (re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$"),
            "at most 255 letters, digits, '_', '-' or '.', starting with a letter or digit", "my-run_1"),
}


def check_name(kind, value):
    """``value`` when it is a valid ``kind`` name, else InvalidArgumentError saying the rule."""
    pattern, rule, example = _RULES[kind]
    if isinstance(value, str) and pattern.match(value):
        return value
    raise InvalidArgumentError(f"Invalid {kind} name {str(value)[:80]!r}: use {rule} (for example {example!r}).")
