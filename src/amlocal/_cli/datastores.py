"""``amlocal datastore ...``: list the workspace's datastores and upload files to one."""

from . import EXIT_OK
from .common import emit, open_workspace


def list_datastores(args):
    workspace = open_workspace(args)
    datastores = workspace.stores.datastores
    default = workspace.get_default_datastore().name
    stores = []
    for name, store in sorted(workspace.datastores.items()):
        stores.append({"name": name, "type": store.datastore_type, "files": len(datastores.list(name)),
                       "default": name == default})
    emit(args, ("NAME", "TYPE", "FILES", "DEFAULT"),
         [(s["name"], s["type"], s["files"], "yes" if s["default"] else "") for s in stores], stores)
    return EXIT_OK


def upload(args):
    from amlocal.core import Datastore

    workspace = open_workspace(args)
    store = Datastore.get(workspace, args.name) if args.name else workspace.get_default_datastore()
    store.upload(src_dir=args.src_path, target_path=args.target_path, overwrite=args.overwrite,
                 show_progress=True)
    return EXIT_OK
