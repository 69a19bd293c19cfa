"""``amlocal service ...`` (list, show, logs, delete web services) and ``amlocal model serve``
(deploy a registered model as a local web service in one command)."""

import json
import re
import sys
from pathlib import Path

from . import EXIT_OK
from .common import emit, local_time, open_workspace, parse_model_ref, print_fields, print_json, write_tsv

STATE_WIDTH = 9


def list_services(args):
    from amlocal.core.webservice import Webservice

    services = Webservice.list(open_workspace(args))
    if not services:
        print("No services. Deploy one with Model.deploy(...) or `amlocal model serve NAME`.", file=sys.stderr)
        if args.output == "json":
            print_json([])
        return EXIT_OK
    emit(args, ("NAME", "TYPE", "STATE", "SCORING URI", "MODELS", "UPDATED"),
         [(s.name, s.compute_type, s.state, s.scoring_uri or "-", ", ".join(s.models) or "-",
           local_time(s.updated_time.timestamp() if s.updated_time else None)) for s in services],
         [s.serialize() for s in services])
    return EXIT_OK


def show_service(args):
    service = _service(args)
    if args.output == "json":
        print_json(service.serialize())
        return EXIT_OK
    if args.output == "tsv":
        write_tsv(("FIELD", "VALUE"), [(k, v if isinstance(v, (str, int, float)) or v is None else json.dumps(v))
                                       for k, v in service.serialize().items()])
        return EXIT_OK
    spec = service._record.spec
    print_fields([
        ("Name", service.name), ("Type", service.compute_type), ("State", service.state),
        ("Error", service.error), ("Scoring URI", service.scoring_uri), ("Swagger URI", service.swagger_uri),
        ("Listening on", f"{spec.bind_address}:{service.port}" if service.port else None),
        ("Models", ", ".join(service.models) or "-"), ("Entry script", spec.entry_in_app),
        ("Source directory", spec.source_directory), ("Environment", spec.environment.name),
        ("Packages", ", ".join(spec.environment.pip_packages) or None),
        ("Created", local_time(service.created_time.timestamp() if service.created_time else None)),
        ("Updated", local_time(service.updated_time.timestamp() if service.updated_time else None)),
    ])
    return EXIT_OK


def show_logs(args):
    from amlocal.serving import printable

    text = _service(args).get_logs(num_lines=args.lines)
    sys.stdout.write(printable(text))
    if text and not text.endswith("\n"):
        sys.stdout.write("\n")
    return EXIT_OK


def delete_service(args):
    service = _service(args)
    service.delete()
    print(f"Deleted service {service.name}")
    return EXIT_OK


def serve_model(args):
    """Deploy NAME[:VERSION] as a local web service and wait until it answers. Without
    --entry-script, amlocal's default scorer serves a scikit-learn model."""
    from amlocal.core import Environment, Model
    from amlocal.core.model import InferenceConfig
    from amlocal.core.webservice import LocalWebservice

    name, version = parse_model_ref(args.model)
    workspace = open_workspace(args)
    model = Model(workspace, name, version=version)
    inference_config = None
    if args.entry_script:
        entry, source = _entry_and_source(args.entry_script, args.source_dir)
        environment = Environment(f"{_service_name(model.name)}-env")
        for package in args.pip or []:
            environment.python.conda_dependencies.add_pip_package(package)
        inference_config = InferenceConfig(entry_script=entry, source_directory=source, environment=environment)
    service_name = args.name or _service_name(model.name)
    config = LocalWebservice.deploy_configuration(port=args.port, bind_address=args.host)
    service = Model.deploy(workspace, service_name, [model], inference_config, config)
    if args.wait:
        service.wait_for_deployment()
    print(f"Scoring URI: {service.scoring_uri}")
    print(f"Swagger URI: {service.swagger_uri}")
    if inference_config is None:
        print(f"Try it:      curl -s -X POST {service.scoring_uri} -H 'Content-Type: application/json' "
              "-d '{\"data\": [[...features...]]}'")
    print(f"Stop it:     amlocal service delete {service.name}")
    return EXIT_OK


def _service(args):
    from amlocal.core.webservice import Webservice

    return Webservice(open_workspace(args), args.service)


def _entry_and_source(entry_script, source_dir):
    from amlocal.exceptions import InvalidArgumentError

    script = Path(entry_script)
    if source_dir is None:  # the script alone is copied, as the SDK does without a source directory
        return str(script), None
    source = Path(source_dir)
    inside = script if (source / script).is_file() else None
    if inside is None:
        try:
            inside = script.resolve().relative_to(source.resolve())
        except ValueError:
            raise InvalidArgumentError(f"--entry-script {entry_script} is not inside --source-dir {source_dir}. "
                                       "Give a path inside the source directory.") from None
    return inside.as_posix(), str(source)


def _service_name(model_name):
    """A valid service name from a model name: lower case, dashes, 3 to 32 characters."""
    name = re.sub(r"[^a-z0-9-]+", "-", model_name.lower()).strip("-")
    name = re.sub(r"^[^a-z]+", "", name)[:32].rstrip("-")
    return name if len(name) >= 3 else f"svc-{name}".rstrip("-")


def vanished_service_items(args):
    """``amlocal gc --services``: the services whose model or environment vanished, as gc items."""
    from amlocal._local.gc import Item
    from amlocal.exceptions import ModelNotFoundError
    from amlocal.serving import open_serving

    workspace = open_workspace(args)

    def model_exists(name, version):
        try:
            workspace.model_registry.get(name, version)
            return True
        except ModelNotFoundError:
            return False

    serving = open_serving(workspace)
    return [Item("service", f"{name} ({why})", 0, lambda name=name: serving.delete(name))
            for name, why in serving.vanished(model_exists)]
