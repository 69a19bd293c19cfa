"""Finding and reading config.json the way azureml's ``Workspace.from_config`` does."""

import json
import os
from pathlib import Path

from .exceptions import ConfigError, ConfigNotFoundError

CONFIG_DIRS = (".azureml", "aml_config", "")
DEFAULT_FILE_NAME = "config.json"
LEGACY_FILE_NAME = "project.json"
REQUIRED_KEYS = ("subscription_id", "resource_group", "workspace_name")


def candidate_paths(path=None, file_name=None):
    """Every file ``from_config`` looks at, in azureml's order: ``.azureml/config.json`` in the
    start directory and each parent up to the root, then ``.azureml/project.json`` likewise, then
    the same under ``aml_config/``, then plain ``config.json`` / ``project.json``."""
    names = [file_name] if file_name else [DEFAULT_FILE_NAME, LEGACY_FILE_NAME]
    start = Path(path) if path else Path.cwd()
    if start.is_file():
        return [start]
    start = start.resolve()
    found = []
    for sub in CONFIG_DIRS:
        for name in names:
            for directory in (start, *start.parents):
                found.append(directory / sub / name if sub else directory / name)
    return found


def find_config(path=None, file_name=None):
    if path is not None and not Path(path).exists():
        raise ConfigNotFoundError(f"from_config(path={str(path)!r}): no such file or directory. Pass the path of "
                                  "a config.json, or of a directory to search from.", [Path(path)])
    searched = candidate_paths(path, file_name)
    for candidate in searched:
        if candidate.is_file():
            return candidate
    start = Path(path).resolve() if path else Path.cwd().resolve()
    in_start = [str(p) for p in searched if p.parent == start or p.parent.parent == start]
    parents = [str(d) for d in start.parents]
    raise ConfigNotFoundError(
        "No workspace configuration file found. Searched:\n  " + "\n  ".join(in_start) +
        ("\nand the same names in each parent directory: " + ", ".join(parents) if parents else "") +
        "\nCreate a config.json with subscription_id, resource_group and workspace_name "
        "(Workspace.write_config() does this), or pass path= to from_config().",
        searched,
    )


def read_config(config_path):
    """Parse and check one config file; returns a dict with at least the three required keys."""
    config_path = Path(config_path)
    try:
        # utf-8-sig: Windows editors often save JSON with a byte-order mark.
        text = config_path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise ConfigError(f"Cannot read workspace config {config_path}: {err.strerror or err}. "
                          "Check that the file exists and is readable.") from err
    except UnicodeDecodeError as err:
        raise ConfigError(f"Workspace config {config_path} is not UTF-8 text ({err.reason} at byte {err.start}). "
                          "Save it as UTF-8, or write it again with Workspace.write_config().") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"Workspace config {config_path} is not valid JSON ({err}). "
                          "Fix the file or write it again with Workspace.write_config().") from err
    if not isinstance(data, dict):
        raise ConfigError(f"Workspace config {config_path} must hold a JSON object.")
    if "Scope" in data and "workspace_name" not in data:
        data.update(_parse_scope(data["Scope"], config_path))
    if data.get("local") is True:
        # A local workspace (`amlocal init`) has no Azure ids; Workspace takes placeholders, which
        # the Azure backends refuse to send to Azure (WorkspaceInfo.check_azure_ids).
        data.setdefault("subscription_id", "local")
        data.setdefault("resource_group", "local")
    missing = [k for k in REQUIRED_KEYS if not data.get(k)]
    if missing:
        raise ConfigError(f"Workspace config {config_path} lacks {', '.join(missing)}. "
                          f"It needs {', '.join(REQUIRED_KEYS)}.")
    return data


def _parse_scope(scope, config_path):
    parts = [p for p in str(scope).split("/") if p]
    try:
        return {
            "subscription_id": parts[parts.index("subscriptions") + 1],
            "resource_group": parts[parts.index("resourceGroups") + 1],
            "workspace_name": parts[parts.index("workspaces") + 1],
        }
    except (ValueError, IndexError):
        raise ConfigError(f"Workspace config {config_path} has a Scope that is not an ARM workspace id: {scope!r}")


def amlocal_home():
    return Path(os.environ.get("AMLOCAL_HOME") or Path.home() / ".amlocal")


def cache_dir():
    """Where environments (wheels, venvs, image metadata) are cached; shared across workspaces."""
    return Path(os.environ.get("AMLOCAL_CACHE") or amlocal_home() / "cache")
