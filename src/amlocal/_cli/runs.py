"""``amlocal run ...``: submit a script; list, show, compare, download, follow and cancel runs."""

import sys
import time
from pathlib import Path

from amlocal.rules.statuses import TERMINAL as TERMINAL_STATUSES
from amlocal.specs import argument_text

from . import EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_OK, EXIT_RUN_FAILED
from .common import (duration, emit, local_time, open_workspace, parse_key_values, print_fields, print_json,
                     print_section, short_value, status_colour, use_colour, write_tsv)

ENVIRONMENT_NAME = "amlocal-cli"
CANCEL_WAIT_SECONDS = 10


def submit_script(args):
    from amlocal.core import Experiment, ScriptRunConfig

    source_directory, script = _locate_script(args.script, args.source_dir)
    variables = dict(parse_key_values(args.env, "--env"))
    environment = _environment(args, variables)
    workspace = open_workspace(args)
    config = ScriptRunConfig(source_directory=str(source_directory), script=script, arguments=args.script_args,
                             compute_target=args.compute_target, environment=environment)
    run = Experiment(workspace, args.experiment).submit(config)
    print(run.id, flush=True)
    if not args.wait:
        return EXIT_OK
    return _follow(run)


def _locate_script(script, source_dir):
    """(source directory, script path relative to it). SCRIPT is a path from the current
    directory; with --source-dir it may also be a path inside that directory."""
    from amlocal.exceptions import InvalidArgumentError

    given = Path(script)
    candidates = [given]
    if source_dir is not None:
        if not Path(source_dir).is_dir():
            raise InvalidArgumentError(f"--source-dir {source_dir}: no such directory.")
        if not given.is_absolute():
            candidates.append(Path(source_dir) / given)
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        looked = " or ".join(str(c) for c in candidates)
        raise InvalidArgumentError(f"Script {script!r} not found: no file {looked} (from {Path.cwd()}).")
    path = found.resolve()
    source = Path(source_dir).resolve() if source_dir is not None else path.parent
    try:
        relative = path.relative_to(source)
    except ValueError:
        raise InvalidArgumentError(f"Script {path} is outside the source directory {source}: a run only has that "
                                   "directory's files. Pass a --source-dir that holds the script.") from None
    return source, relative.as_posix()


def _environment(args, variables):
    from amlocal.core import Environment

    if args.pip_requirements:
        environment = Environment.from_pip_requirements(ENVIRONMENT_NAME, args.pip_requirements)
    else:
        environment = Environment(ENVIRONMENT_NAME)
    for package in args.pip or []:
        environment.python.conda_dependencies.add_pip_package(package)
    if args.base_image:
        environment.docker.base_image = args.base_image
    environment.environment_variables.update(variables)
    return environment


def _exception_line(log_tail):
    """The "SomeError: message" line that ends a Python traceback in ``log_tail``, or ""."""
    import re

    for line in reversed(log_tail.strip().splitlines()):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit|Warning)\b", line):
            return line.strip()[:300]
    return ""


def _follow(run):
    """Stream the run's logs until it ends; 0 when it Completed, else 1 with its error on stderr."""
    try:
        details = run.wait_for_completion(show_output=True, raise_on_error=False)
    except KeyboardInterrupt:
        print(f"\namlocal: stopped following run {run.id}. The run goes on (it runs detached):\n"
              f"  amlocal run logs {run.id} --follow   to follow it again\n"
              f"  amlocal run cancel {run.id}          to stop it", file=sys.stderr)
        return EXIT_INTERRUPTED
    status = details.get("status")
    if status == "Completed":
        return EXIT_OK
    error = details.get("error") or {}
    message = error.get("message") or "no error message recorded"
    raised = _exception_line(error.get("log_tail") or "")
    # the traceback was streamed above; the summary names the exception once
    print(f"amlocal: error: Run {run.id} ended {status}: {message}" + (f" ({raised})" if raised else ""),
          file=sys.stderr)
    return EXIT_RUN_FAILED


def list_runs(args):
    from amlocal.studio.data import StudioData

    runs = StudioData(open_workspace(args)).runs(experiment=args.experiment, limit=args.limit)
    if not runs:
        where = f" in experiment {args.experiment!r}" if args.experiment else ""
        print(f"No runs{where}.", file=sys.stderr)
        if getattr(args, "output", None) == "json":
            print_json([])
        return EXIT_OK
    metrics, params, tags = args.metric or [], args.param or [], args.tag or []
    headers = ("RUN ID", "EXPERIMENT", "STATUS", "CREATED", "DURATION", *params, *metrics,
               *(f"tag:{key}" for key in tags))
    rows = [(r["run_id"], r["experiment"], r["status"], local_time(r["created"]), duration(r["duration"]),
             *(_cell(r["params"].get(name)) for name in params), *(_cell(r["metrics"].get(name)) for name in metrics),
             *(_cell(r["tags"].get(key)) for key in tags)) for r in runs]
    emit(args, headers, rows, runs, colour_columns=(2,))
    return EXIT_OK


def _cell(value):
    return "-" if value is None else short_value(value, 40)


def compare_runs(args):
    from amlocal.studio.data import StudioData

    comparison = StudioData(open_workspace(args)).compare(args.run_ids)
    runs = comparison["runs"]
    rows = [("status", *(r["status"] for r in runs)), ("experiment", *(r["experiment"] for r in runs)),
            ("duration", *(duration(r["duration"]) for r in runs)),
            ("compute", *(r["compute_target"] for r in runs))]
    rows += [(f"param:{key}", *(_cell(r["params"].get(key)) for r in runs)) for key in comparison["params"]]
    rows += [(f"metric:{key}", *(_cell(r["metrics"].get(key)) for r in runs)) for key in comparison["metrics"]]
    rows += [(f"tag:{key}", *(_cell(r["tags"].get(key)) for r in runs)) for key in comparison["tags"]]
    emit(args, ("", *(r["run_id"] for r in runs)), rows, comparison)
    return EXIT_OK


def download_run(args):
    """Copy the run's files under --prefix into --target-dir (keeping their paths)."""
    from amlocal.core import Run

    run = Run.get(open_workspace(args), args.run_id)
    prefix = args.prefix or None
    names = [name for name in run.get_file_names() if prefix is None or name.startswith(prefix)]
    if not names:
        print(f"amlocal: error: run {run.id} has no files" + (f" under {prefix!r}" if prefix else "")
              + ". `amlocal run show " + run.id + "` lists its files.", file=sys.stderr)
        return EXIT_NOT_FOUND
    for path in run.download_files(prefix=prefix, output_directory=args.target_dir):
        print(path)
    return EXIT_OK


def _elapsed(record):
    """From the start (or, before it started, the submission) to the end, or to now while it runs."""
    begin = record.get("start_time") or record.get("created")
    end = record.get("end_time")
    if end is None and record.get("status") not in TERMINAL_STATUSES:
        end = time.time()
    return None if begin is None or end is None else end - begin


def show_run(args):
    from amlocal.core import Run

    workspace = open_workspace(args)
    run = Run.get(workspace, args.run_id)
    details = run.get_details()
    metrics = run.get_metrics()
    files = run.get_file_names()
    if args.output == "json":
        print_json({**details, "metrics": metrics, "files": files})
        return EXIT_OK
    if args.output == "tsv":
        record = workspace.run_history.get_run(run.id)
        write_tsv(("FIELD", "VALUE"), [("run_id", run.id), ("experiment", run.experiment.name),
                                       ("status", details.get("status")), ("target", details.get("target")),
                                       ("created", local_time(record.get("created"))),
                                       ("duration", duration(_elapsed(record))),
                                       *((f"metric:{k}", short_value(v, 10_000)) for k, v in metrics.items()),
                                       *((f"tag:{k}", v) for k, v in run.get_tags().items()),
                                       *(("file", name) for name in files)])
        return EXIT_OK
    history = workspace.run_history
    record = history.get_run(run.id)
    arguments = " ".join(argument_text(a) for a in record.get("arguments") or [])
    status = details.get("status")
    code = status_colour(status) if use_colour() else None
    print_fields([
        ("Run", run.id), ("Experiment", run.experiment.name), ("Status", f"\033[{code}m{status}\033[0m" if code else status),
        ("Script", f"{record.get('script')} {arguments}".strip() if record.get("script") else None),
        ("Target", details.get("target")), ("Backend", record.get("backend")),
        ("Created", local_time(record.get("created"))), ("Duration", duration(_elapsed(record))),
        ("Web View", workspace.backend.web_view_text(run.id)),
    ])
    timeline = history.status_timeline(run.id)
    width = max((len(status) for status, _ in timeline), default=0)
    print_section("Timeline", [f"{status.ljust(width)}  {local_time(when, millis=True)}" for status, when in timeline])
    width = max((len(name) for name in metrics), default=0)
    print_section("Metrics", [f"{name.ljust(width)}  {short_value(value)}" for name, value in metrics.items()])
    tags = run.get_tags()
    print_section("Tags", [f"{key}={'' if value is None else value}" for key, value in tags.items()])
    print_section("Files", files)
    error = details.get("error")
    if error:
        lines = [str(error.get("message") or "no error message recorded")]
        if error.get("log_tail"):
            lines += ["--- last lines of the log ---", *error["log_tail"].rstrip("\n").splitlines()]
        print_section("Error", lines)
    return EXIT_OK


def show_logs(args):
    from amlocal._show_output import _underlined, copy_log
    from amlocal.core import Run

    workspace = open_workspace(args)
    run = Run.get(workspace, args.run_id)
    if args.follow:
        return _follow(run)
    history = workspace.run_history
    names = history.log_names(run.id)
    if not names:
        print(f"Run {run.id} has no logs yet (status {run.get_status()}).", file=sys.stderr)
    for index, name in enumerate(names):
        sys.stdout.write(("\n" if index else "") + _underlined(f"Streaming {name}"))
        copy_log(history, run.id, name, 0, sys.stdout, final=True)
    sys.stdout.flush()
    return EXIT_OK


def cancel_run(args):
    from amlocal.core import Run

    workspace = open_workspace(args)
    run = Run.get(workspace, args.run_id)
    status = run.get_status()
    if status in TERMINAL_STATUSES:
        print(f"amlocal: run {run.id} had already ended; nothing to cancel.", file=sys.stderr)
        print(status)
        return EXIT_OK
    run.cancel()
    # Canceling is asynchronous (the run's supervisor stops the job); show where it lands.
    deadline = time.monotonic() + CANCEL_WAIT_SECONDS
    status = run.get_status()
    while status not in TERMINAL_STATUSES and time.monotonic() < deadline:
        time.sleep(0.1)
        status = run.get_status()
    print(status)
    return EXIT_OK
