"""``amlocal init``: write a config.json for a local workspace, without Azure ids.

A local workspace needs only a name: the file says ``"workspace_name"`` and ``"local": true``
(and the backend, when one is chosen). To run on Azure ML, download the workspace's own
config.json from the portal instead (it has subscription_id and resource_group).
"""

import json
import re
import sys
from pathlib import Path

from . import EXIT_OK

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,32}$")


def init_workspace(args):
    from amlocal.exceptions import InvalidArgumentError

    directory = Path(args.path or ".")
    name = args.name or _default_name(directory)
    if not NAME.match(name):
        raise InvalidArgumentError(f"Invalid workspace name {name!r}: 1 to 33 letters, digits, '-' or '_', starting "
                                   "with a letter or digit. Pass --name NAME.")
    if args.backend and not _is_local_backend(args.backend):
        raise InvalidArgumentError("amlocal init writes a local workspace's config.json. For Azure ML, download "
                                   "the workspace's config.json from the Azure portal (it holds subscription_id, "
                                   f"resource_group and workspace_name) and choose --backend {args.backend} when "
                                   "you run.")
    target = directory / "config.json"
    if target.exists() and not args.force:
        raise InvalidArgumentError(f"{target} already exists. Pass --force to replace it, or --path DIR to write "
                                   "elsewhere.")
    config = {"workspace_name": name, "local": True}
    if args.backend:
        config["backend"] = args.backend
    directory.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(config, indent=4) + "\n")
    print(target)
    print(f"amlocal: local workspace {name!r}; its runs and models will live in "
          f"{_home() / name}. Next: amlocal run submit-script train.py -e my-experiment", file=sys.stderr)
    return EXIT_OK


def _is_local_backend(name):
    """Whether backend ``name`` runs jobs on this machine (an unknown name fails here, listing
    the known ones)."""
    from amlocal._plugins import get_backend_class
    from amlocal.local import LocalBackend

    return issubclass(get_backend_class(name), LocalBackend)


def _default_name(directory):
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", directory.resolve().name).strip("-_")[:33]
    return base or "local-workspace"


def _home():
    from amlocal import _config

    return _config.amlocal_home()
