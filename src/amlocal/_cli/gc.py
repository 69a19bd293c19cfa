"""``amlocal gc``, ``amlocal run delete``, ``amlocal model delete``: giving disk space back."""

import re
import sys

from . import EXIT_OK
from .common import open_workspace

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def duration(text):
    """"90s", "30m", "12h", "7d", "2w" or plain seconds -> seconds."""
    import argparse

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", str(text))
    if not match:
        raise argparse.ArgumentTypeError(f"expected a duration such as 90s, 30m, 12h, 7d or 2w, got {text!r}")
    return float(match.group(1)) * UNITS[match.group(2) or "s"]


def _local_backend(args):
    from amlocal.exceptions import InvalidArgumentError
    from amlocal.local import LocalBackend

    backend = open_workspace(args).backend
    if not isinstance(backend, LocalBackend):
        raise InvalidArgumentError(f"The {backend.name!r} backend keeps its runs in Azure ML; amlocal gc and delete "
                                   "work on local workspaces (docker, process).")
    return backend


def collect(args):
    from amlocal._local import gc

    backend = _local_backend(args)
    found = gc.plan(backend, older_than=args.older_than, keep_last=args.keep_last, images=args.images)
    if args.services:
        from .services import vanished_service_items

        found.items.extend(vanished_service_items(args))
    if args.dry_run:
        for item in found.items:
            if item.kind != "unused snapshot store objects":
                print(f"would free {item.kind}: {item.what}" + (f" ({gc.human_size(item.size)})" if item.size else ""))
        print(f"amlocal gc --dry-run: {len(found.items) - 1} items, about {gc.human_size(found.size)} "
              "(plus unused snapshot store objects)", file=sys.stderr)
        return EXIT_OK
    freed = gc.apply(found)
    print(f"amlocal gc: freed {gc.human_size(freed)}", file=sys.stderr)
    return EXIT_OK


def delete_run(args):
    from amlocal._local import gc

    for run_id in gc.delete_run(_local_backend(args), args.run_id):
        print(f"deleted run {run_id}")
    return EXIT_OK


def delete_model(args):
    from amlocal.core import Model

    from .common import parse_model_ref

    name, version = parse_model_ref(args.model)
    if version is None:
        from amlocal.exceptions import InvalidArgumentError

        raise InvalidArgumentError(f"amlocal model delete needs NAME:VERSION (which version of {name!r}?); "
                                   f"`amlocal model list --name {name}` shows them.")
    Model(open_workspace(args), name, version=version).delete()
    print(f"deleted model {name}:{version}")
    return EXIT_OK
