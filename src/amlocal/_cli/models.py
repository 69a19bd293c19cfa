"""``amlocal model ...``: list, show and download registered models."""

import sys

from . import EXIT_OK
from .common import (emit, local_time, open_workspace, parse_key_values, parse_model_ref, print_fields,
                     print_json, short_value, write_tsv)


def list_models(args):
    from amlocal.core import Model

    tags = [key if value is None else [key, value]
            for key, value in parse_key_values(args.tag, "--tag", value_required=False)]
    workspace = open_workspace(args)
    models = Model.list(workspace, name=args.name, tags=tags or None, latest=args.latest)
    if not models:
        print("No models" + (f" named {args.name!r}" if args.name else "") + (" with those tags" if tags else "")
              + ".", file=sys.stderr)
        if args.output == "json":
            print_json([])
        return EXIT_OK
    emit(args, ("NAME", "VERSION", "RUN ID", "CREATED", "TAGS"),
         [(m.name, m.version, m.run_id or "-", local_time(m.created_time), _tags(m.tags)) for m in models],
         [m.serialize() for m in models])
    return EXIT_OK


def show_model(args):
    model = _model(args)
    if args.output == "json":
        print_json(model.serialize())
        return EXIT_OK
    if args.output == "tsv":
        write_tsv(("FIELD", "VALUE"), [(k, v if isinstance(v, (str, int, float)) or v is None else short_value(v, 10_000))
                                       for k, v in model.serialize().items()])
        return EXIT_OK
    print_fields([
        ("Name", model.name), ("Version", model.version), ("Id", model.id), ("Run", model.run_id),
        ("Created", local_time(model.created_time)), ("Framework", _framework(model)),
        ("Description", model.description), ("Tags", _tags(model.tags) or None),
        ("Properties", _tags(model.properties) or None), ("Path", model.url),
    ])
    return EXIT_OK


def download_model(args):
    from amlocal.exceptions import InvalidArgumentError

    try:
        path = _model(args).download(target_dir=args.target_dir, exist_ok=args.exist_ok)
    except InvalidArgumentError as err:
        # The registry speaks to Python callers (exist_ok=True); here the switch is --exist-ok.
        raise InvalidArgumentError(str(err).replace("Pass exist_ok=True to overwrite it", "Pass --exist-ok to "
                                                    "overwrite it").replace("another target_dir",
                                                                            "another --target-dir")) from None
    print(path)
    return EXIT_OK


def _model(args):
    from amlocal.core import Model

    name, version = parse_model_ref(args.model)
    return Model(open_workspace(args), name, version=version)


def _tags(values):
    return ", ".join(f"{key}={short_value('' if value is None else value, 40)}" for key, value in values.items())


def _framework(model):
    if not model.model_framework:
        return None
    return f"{model.model_framework} {model.model_framework_version or ''}".strip()
