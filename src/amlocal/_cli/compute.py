"""``amlocal compute ...``: list, show and create compute targets (``az ml computetarget``)."""

import sys

from . import EXIT_OK
from .common import emit, open_workspace, print_fields, print_json, write_tsv

FIELDS = ("name", "type", "vm_size", "vm_priority", "min_nodes", "max_nodes", "provisioning_state")


def list_computes(args):
    computes = open_workspace(args).stores.compute_targets.list()
    if not computes:
        print("No compute targets. Create one: amlocal compute create NAME --vm-size STANDARD_D2_V2 --max-nodes 4",
              file=sys.stderr)
        if args.output == "json":
            print_json([])
        return EXIT_OK
    emit(args, ("NAME", "TYPE", "VM SIZE", "MAX NODES", "STATE"),
         [(c["name"], c.get("type") or "AmlCompute", c.get("vm_size") or "-", c.get("max_nodes"),
           c.get("provisioning_state") or "-") for c in computes], [_plain(c) for c in computes])
    return EXIT_OK


def show_compute(args):
    from amlocal.core.compute import ComputeTarget

    target = ComputeTarget(open_workspace(args), args.name)
    _print_target(args, target)
    return EXIT_OK


def create_compute(args):
    from amlocal.core.compute import AmlCompute, ComputeTarget

    workspace = open_workspace(args)
    config = AmlCompute.provisioning_configuration(vm_size=args.vm_size, min_nodes=args.min_nodes,
                                                   max_nodes=args.max_nodes, vm_priority=args.vm_priority)
    target = ComputeTarget.create(workspace, args.name, config)
    target.wait_for_completion(show_output=args.output == "table")
    if args.output != "table":
        _print_target(args, target)
    return EXIT_OK


def _print_target(args, target):
    data = target.serialize()
    if args.output == "json":
        print_json(data)
    elif args.output == "tsv":
        write_tsv(("FIELD", "VALUE"), list(data.items()))
    else:
        print_fields([(key.replace("_", " ").capitalize(), value) for key, value in data.items()])


def _plain(description):
    return {key: description.get(key) for key in FIELDS if key in description}
