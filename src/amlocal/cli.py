"""The ``amlocal`` command: submit scripts, and read the runs and models of a local workspace.

    amlocal [--config PATH] [--backend NAME] run submit-script SCRIPT -e EXPERIMENT [...] [-- SCRIPT_ARGS...]
    amlocal run list | show RUN_ID | compare RUN_ID... | download RUN_ID | logs RUN_ID [--follow] | cancel RUN_ID
    amlocal run delete RUN_ID
    amlocal model list | show NAME[:VERSION] | download NAME[:VERSION] | delete NAME:VERSION
    amlocal model serve NAME[:VERSION] [--entry-script ...];  amlocal service list | show | logs | delete NAME
    amlocal compute list | show NAME | create NAME;  amlocal datastore list | upload
    amlocal gc [--dry-run] [--older-than AGE] [--keep-last N] [--images] [--services]
    amlocal ui (the studio);  amlocal init;  amlocal completion bash|zsh;  amlocal --version

Exit codes: 0 ok; 1 the run ended Failed or Canceled; 2 usage or bad input; 3 run or model not
found; 4 run history or backend unavailable; 130 interrupted (a followed run goes on).

Startup time matters (``amlocal model list`` runs in a tenth of a second): this module imports
only argparse and sys, and each command imports the amlocal pieces it uses, inside the command
(``amlocal._cli.runs``, ``amlocal._cli.models``).
"""

import argparse
import sys

EPILOG = """exit codes: 0 ok, 1 run failed or canceled, 2 usage or bad input, 3 not found,
4 run history or backend unavailable, 130 interrupted"""


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    head, script_args = _split_script_args(argv)
    args = parser.parse_args(head)
    if script_args is not None and not getattr(args, "takes_script_args", False):
        parser.error("arguments after '--' are only taken by 'amlocal run submit-script'")
    args.script_args = script_args or []
    return _dispatch(args)


def _split_script_args(argv):
    """Everything after the first ``--`` is the script's, never amlocal's (argparse would mix
    them with SCRIPT and the options)."""
    if "--" not in argv:
        return argv, None
    index = argv.index("--")
    return argv[:index], argv[index + 1:]


def _dispatch(args):
    from importlib import import_module

    from amlocal._cli import EXIT_INTERRUPTED, exit_code_for
    from amlocal.exceptions import AmlocalError

    module_name, _, function_name = args.handler.partition(":")
    handler = getattr(import_module(f"amlocal._cli.{module_name}"), function_name)
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("\namlocal: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except AmlocalError as err:
        print(f"amlocal: error: {err}", file=sys.stderr)
        return exit_code_for(err)
    except BrokenPipeError:
        # The reader went away (`amlocal run list | head -1`): say nothing more.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as err:
        print(f"amlocal: error: {err}", file=sys.stderr)
        return exit_code_for(err)


# -- the parser ---------------------------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(
        prog="amlocal", description="Run Azure ML (SDK v1) training scripts locally; read their runs and models.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_Version, help="print amlocal's version and exit")
    _global_options(parser, default=None)
    commands = parser.add_subparsers(dest="group",
                                     metavar="{run,model,service,compute,datastore,gc,ui,init,completion}",
                                     required=True)

    run = commands.add_parser("run", help="submit, list, show, follow and cancel runs",
                              description="Submit, list, show, follow and cancel runs.")
    run_commands = run.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _submit_script_parser(run_commands)

    sub = _leaf(run_commands, "list", "runs:list_runs", "list runs, newest first")
    sub.add_argument("-e", "--experiment", help="only the runs of this experiment")
    sub.add_argument("--limit", type=_positive_int, metavar="N", help="at most N runs")
    sub.add_argument("--metric", action="append", metavar="NAME",
                     help="a column with the metric's last value; repeat for several")
    sub.add_argument("--param", action="append", metavar="NAME",
                     help="a column with a hyperparameter (a script argument --NAME VALUE); repeat for several")
    sub.add_argument("--tag", action="append", metavar="KEY", help="a column with the tag's value; repeat for several")
    _output_options(sub, "the runs with their metrics, hyperparameters and tags")

    sub = _leaf(run_commands, "show", "runs:show_run", "status, timeline, metrics, tags, files and error of a run")
    sub.add_argument("run_id", metavar="RUN_ID")
    _output_options(sub, "get_details() with metrics and files")

    sub = _leaf(run_commands, "compare", "runs:compare_runs",
                "runs side by side: status, duration, hyperparameters, last metric values, tags")
    sub.add_argument("run_ids", metavar="RUN_ID", nargs="+")
    _output_options(sub, "the runs and the names compared")

    sub = _leaf(run_commands, "download", "runs:download_run", "copy a run's files (outputs, logs); print their paths")
    sub.add_argument("run_id", metavar="RUN_ID")
    sub.add_argument("--prefix", metavar="PREFIX", help="only the files whose name starts with it (e.g. outputs/)")
    sub.add_argument("--target-dir", default=".", metavar="DIR",
                     help="where to put them, keeping their paths (default: .)")

    sub = _leaf(run_commands, "logs", "runs:show_logs", "print a run's logs")
    sub.add_argument("run_id", metavar="RUN_ID")
    sub.add_argument("-f", "--follow", action="store_true",
                     help="stream the logs until the run ends (exit 1 when it ends Failed or Canceled)")

    sub = _leaf(run_commands, "cancel", "runs:cancel_run", "cancel a run and print its new status")
    sub.add_argument("run_id", metavar="RUN_ID")

    sub = _leaf(run_commands, "delete", "gc:delete_run",
                "delete an ended run (a sweep with its children): its history and files")
    sub.add_argument("run_id", metavar="RUN_ID")

    model = commands.add_parser("model", help="list, show and download registered models",
                                description="List, show and download registered models.")
    model_commands = model.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub = _leaf(model_commands, "list", "models:list_models", "list registered models, newest version first")
    sub.add_argument("--name", help="only the versions of this model")
    sub.add_argument("--latest", action="store_true", help="only the latest version of each model")
    sub.add_argument("--tag", action="append", metavar="KEY[=VALUE]",
                     help="only models with this tag (and value); repeat for several")
    _output_options(sub, "the models")

    sub = _leaf(model_commands, "show", "models:show_model", "show a model (the latest version without :VERSION)")
    sub.add_argument("model", metavar="NAME[:VERSION]")
    _output_options(sub, "the model")

    sub = _leaf(model_commands, "delete", "gc:delete_model", "delete one version of a registered model")
    sub.add_argument("model", metavar="NAME:VERSION")

    sub = _leaf(model_commands, "download", "models:download_model", "copy a model's files; print their path")
    sub.add_argument("model", metavar="NAME[:VERSION]")
    sub.add_argument("--target-dir", default=".", metavar="DIR", help="where to put the model (default: .)")
    sub.add_argument("--exist-ok", action="store_true", help="overwrite what is already there")
    _serving_parsers(commands, model_commands)

    _compute_parser(commands)
    _datastore_parser(commands)
    _gc_parser(commands)
    _ui_parser(commands)

    sub = _leaf(commands, "init", "init:init_workspace",
                "write a config.json for a local workspace (no Azure ids needed)")
    sub.add_argument("--name", help="the workspace's name (default: the directory's name)")
    sub.add_argument("--path", metavar="DIR", help="where to write config.json (default: .)")
    sub.add_argument("--force", action="store_true", help="replace an existing config.json")

    sub = _leaf(commands, "completion", "completion:completion", "print a shell completion script",
                epilog='Load it from your shell\'s startup file:\n  eval "$(amlocal completion bash)"   # ~/.bashrc\n'
                       '  eval "$(amlocal completion zsh)"    # ~/.zshrc\n\n' + EPILOG)
    sub.add_argument("shell", choices=("bash", "zsh"))
    return parser


def _serving_parsers(commands, model_commands):
    """``amlocal model serve`` and the ``amlocal service`` group (``amlocal._cli.services``)."""
    sub = _leaf(model_commands, "serve", "services:serve_model",
                "deploy a model as a local web service (Azure's inference server) and print its URI")
    sub.add_argument("model", metavar="NAME[:VERSION]")
    sub.add_argument("--entry-script", metavar="FILE",
                     help="the score.py (init() and run()); default: amlocal's scorer for scikit-learn models")
    sub.add_argument("--source-dir", metavar="DIR", help="the directory the entry script needs (copied)")
    sub.add_argument("--pip", action="append", metavar="PKG",
                     help="a pip package the entry script needs; repeat for several")
    sub.add_argument("--port", type=_positive_int, metavar="PORT", help="the port to listen on (default: a free one)")
    sub.add_argument("--host", metavar="ADDRESS",
                     help="the address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every interface)")
    sub.add_argument("--name", metavar="SERVICE", help="the service's name (default: from the model's name)")
    sub.add_argument("--wait", action=argparse.BooleanOptionalAction, default=True,
                     help="wait until the service answers (default); --no-wait returns once it is starting")

    service = commands.add_parser("service", help="list, show, read the logs of and delete web services",
                                  description="List, show, read the logs of and delete web services.")
    service_commands = service.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub = _leaf(service_commands, "list", "services:list_services", "list the workspace's web services")
    _output_options(sub, "the services")
    sub = _leaf(service_commands, "show", "services:show_service", "state, URIs, models and entry script of a service")
    sub.add_argument("service", metavar="NAME")
    _output_options(sub, "the service")
    sub = _leaf(service_commands, "logs", "services:show_logs", "print what a service's server printed")
    sub.add_argument("service", metavar="NAME")
    sub.add_argument("--lines", type=_positive_int, default=5000, metavar="N", help="the last N lines (default 5000)")
    sub = _leaf(service_commands, "delete", "services:delete_service", "stop and remove a service")
    sub.add_argument("service", metavar="NAME")


def _compute_parser(commands):
    compute = commands.add_parser("compute", help="list, show and create compute targets",
                                  description="List, show and create compute targets (AmlCompute clusters; locally "
                                              "max_nodes runs at once, with vm_size's CPU and memory).")
    compute_commands = compute.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub = _leaf(compute_commands, "list", "compute:list_computes", "list the compute targets")
    _output_options(sub, "the compute targets")
    sub = _leaf(compute_commands, "show", "compute:show_compute", "show a compute target")
    sub.add_argument("name", metavar="NAME")
    _output_options(sub, "the compute target")
    sub = _leaf(compute_commands, "create", "compute:create_compute", "create (or update) an AmlCompute target")
    sub.add_argument("name", metavar="NAME")
    sub.add_argument("--vm-size", default="STANDARD_D2_V2", help="the VM size (default STANDARD_D2_V2)")
    sub.add_argument("--max-nodes", type=_positive_int, default=4, help="nodes at most (default 4)")
    sub.add_argument("--min-nodes", type=int, default=0, help="nodes at least (default 0)")
    sub.add_argument("--vm-priority", choices=("dedicated", "lowpriority"), default="dedicated")
    _output_options(sub, "the compute target")


def _datastore_parser(commands):
    datastore = commands.add_parser("datastore", help="list datastores and upload files to one",
                                    description="List the workspace's datastores and upload files to one.")
    datastore_commands = datastore.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub = _leaf(datastore_commands, "list", "datastores:list_datastores", "list the datastores")
    _output_options(sub, "the datastores")
    sub = _leaf(datastore_commands, "upload", "datastores:upload", "upload a directory's files to a datastore")
    sub.add_argument("--src-path", "-p", required=True, metavar="DIR", help="the local directory to upload")
    sub.add_argument("--target-path", "-t", metavar="PATH", help="where in the datastore (default: its root)")
    sub.add_argument("--name", "-n", metavar="DATASTORE", help="the datastore (default: the workspace's default)")
    sub.add_argument("--overwrite", action="store_true", help="replace files that are already there")


def _output_options(sub, what):
    sub.add_argument("-o", "--output", choices=("table", "json", "tsv"), default="table",
                     help=f"table (default), json ({what}, as the studio's API answers) or tsv")
    sub.add_argument("--json", dest="output", action="store_const", const="json", help="the same as --output json")


class _Version(argparse.Action):
    """Looks the version up only when asked (importlib.metadata costs startup time)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import PackageNotFoundError, version

        try:
            text = version("amlocal")
        except PackageNotFoundError:
            text = "unknown (not installed)"
        print(f"amlocal {text}")
        parser.exit()


def _ui_parser(commands):
    sub = _leaf(commands, "ui", "studio:serve_studio", "serve the studio: see, chart and compare runs and models "
                "in a browser")
    sub.add_argument("--port", type=_port, default=8765, help="the port (default 8765; 0 takes a free one)")
    sub.add_argument("--host", default="127.0.0.1",
                     help="the address to listen on (default 127.0.0.1, this machine only); any other address "
                          "requires the token printed at start on every request")
    sub.add_argument("--no-browser", action="store_true", help="do not open a browser")
    sub.add_argument("--allow-actions", action="store_true",
                     help="allow cancelling runs and setting tags from the studio (each after a confirmation); "
                          "read-only otherwise")


def _gc_parser(commands):
    from amlocal._cli.gc import duration

    sub = commands.add_parser("gc", help="free disk space: leftovers, old snapshots, unused images",
                              description="Free what the local workspace no longer needs: leftovers of interrupted "
                                          "submits, ended runs' job directories and containers; with --older-than / "
                                          "--keep-last also old runs' snapshots; with --images unused environment "
                                          "images. Run history (metrics, logs, outputs) and models stay.",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub.set_defaults(handler="gc:collect")
    _global_options(sub, default=argparse.SUPPRESS)
    sub.add_argument("--dry-run", action="store_true", help="print what would be freed, free nothing")
    sub.add_argument("--older-than", type=duration, metavar="AGE",
                     help="also free the snapshots of runs that ended longer ago than AGE (90s, 30m, 12h, 7d, 2w); "
                          "with --images, images unused for AGE (default 7d)")
    sub.add_argument("--keep-last", type=int, metavar="N",
                     help="also free the snapshots of ended runs except the newest N")
    sub.add_argument("--images", action="store_true", help="also remove environment images (docker) or virtualenvs (process) and bytecode bundles no recent run used")
    sub.add_argument("--services", action="store_true",
                     help="also remove web services whose model is no longer registered or whose image is gone")


def _submit_script_parser(run_commands):
    sub = _leaf(run_commands, "submit-script", "runs:submit_script",
                "submit a training script as a run (wait for it by default)",
                usage="amlocal run submit-script SCRIPT -e EXPERIMENT [options] [-- SCRIPT_ARGS ...]",
                epilog="Arguments after -- go to the script:\n"
                       "  amlocal run submit-script train.py -e demo --pip scikit-learn -- --C 0.5\n\n" + EPILOG)
    sub.set_defaults(takes_script_args=True)
    sub.add_argument("script", metavar="SCRIPT", help="the entry script (a path from the current directory)")
    sub.add_argument("-e", "--experiment", required=True, help="the experiment to submit to")
    sub.add_argument("--source-dir", metavar="DIR",
                     help="the directory snapshotted for the run (default: the script's directory)")
    sub.add_argument("--pip", action="append", metavar="PKG",
                     help="a pip package for the run's environment; repeat for several")
    sub.add_argument("--pip-requirements", metavar="FILE", help="a requirements.txt for the run's environment")
    sub.add_argument("--compute-target", metavar="NAME", help="a compute target of the workspace (default: local)")
    sub.add_argument("--base-image", metavar="IMAGE", help="the Docker base image of the run's environment")
    sub.add_argument("--env", action="append", metavar="KEY=VALUE",
                     help="an environment variable for the job; repeat for several")
    sub.add_argument("--wait", action=argparse.BooleanOptionalAction, default=True,
                     help="stream the run's output until it ends (default); --no-wait prints the run id and "
                          "returns at once")


def _leaf(commands, name, handler, help_text, **kwargs):
    kwargs.setdefault("epilog", EPILOG)
    sub = commands.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
                              formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)
    sub.set_defaults(handler=handler)
    # The global options work after the command too; SUPPRESS keeps a value given before it.
    _global_options(sub, default=argparse.SUPPRESS)
    return sub


def _global_options(parser, default):
    group = parser.add_argument_group("workspace options")
    group.add_argument("--config", metavar="PATH", default=default,
                       help="a config.json, or a directory to search from (default: search from the current "
                            "directory up, as Workspace.from_config() does)")
    group.add_argument("--backend", metavar="NAME", default=default,
                       help="the backend (docker, process, ...; default: AMLOCAL_BACKEND, config.json "
                            "\"backend\", else docker)")


def _port(text):
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return int(text)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


if __name__ == "__main__":
    sys.exit(main())
