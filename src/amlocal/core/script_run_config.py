"""ScriptRunConfig: the non-deprecated way to describe a job (``azureml.core.ScriptRunConfig``)."""

import shlex
from pathlib import Path

from ..exceptions import InvalidArgumentError
from ..specs import RunSpec
from .datastore import DataReference
from .environment import Environment
from .runconfig import network_of

SCALARS = (str, int, float, bool)


class ScriptRunConfig:
    def __init__(self, source_directory, script=None, arguments=None, run_config=None, _telemetry_values=None,
                 compute_target=None, environment=None, distributed_job_config=None, resume_from=None,
                 max_run_duration_seconds=2592000, command=None, docker_runtime_config=None):
        if not isinstance(source_directory, (str, Path)):
            raise InvalidArgumentError(f"source_directory must be a path, got {source_directory!r}.")
        if command is not None:
            if script is not None or arguments:
                raise InvalidArgumentError("ScriptRunConfig takes either command= or script=/arguments=, not both.")
            script, arguments = _script_of_command(command)
        if script is None:
            raise InvalidArgumentError("ScriptRunConfig needs script= (the entry script in source_directory).")
        if environment is not None and not isinstance(environment, Environment):
            raise InvalidArgumentError(f"environment must be an amlocal.core.Environment, got {type(environment).__name__}.")
        self.source_directory = str(source_directory)
        self.script = script
        self.arguments = check_arguments(arguments or [])
        self.run_config = run_config
        self.compute_target = compute_target
        self.environment = environment or Environment("amlocal-default")
        self.max_run_duration_seconds = max_run_duration_seconds
        self.command = command
        self.docker_runtime_config = docker_runtime_config

    def _run_spec(self, experiment_name, tags=None):
        return build_run_spec(experiment_name, self.source_directory, self.script, self.arguments,
                              self.environment, self.compute_target, tags, self.max_run_duration_seconds,
                              network=network_of(self.docker_runtime_config, self.run_config))


def _script_of_command(command):
    """``command=["python", "train.py", "--alpha", "1"]`` (or the same as one string) runs like
    script="train.py" with those arguments. Other commands cannot run locally."""
    parts = shlex.split(command) if isinstance(command, str) else list(command)
    if len(parts) >= 2 and isinstance(parts[0], str) and Path(parts[0]).name.startswith("python") \
            and isinstance(parts[1], str) and parts[1].endswith(".py"):
        return parts[1], parts[2:]
    raise InvalidArgumentError(f"command={command!r}: amlocal runs commands of the form ['python', 'script.py', "
                               "args...]; pass script= and arguments= for anything else.")


def check_arguments(arguments):
    if not isinstance(arguments, (list, tuple)):
        raise InvalidArgumentError(f"arguments must be a list of strings, numbers or data references, got "
                                   f"{type(arguments).__name__}.")
    for value in arguments:
        if not isinstance(value, SCALARS + (DataReference,)):
            raise InvalidArgumentError(f"argument {value!r} is a {type(value).__name__}; use str, int, float, "
                                       "bool or a datastore path (ds.path(...).as_mount()).")
    return list(arguments)


def script_params_to_arguments(script_params):
    """A SKLearn ``script_params`` dict becomes ["--flag", "value", ...] (as the estimators do)."""
    if script_params is None:
        return []
    if not isinstance(script_params, dict):
        raise InvalidArgumentError(f"script_params must be a dict such as {{'--kernel': 'linear'}}, got "
                                   f"{type(script_params).__name__}.")
    arguments = []
    for key, value in script_params.items():
        if not isinstance(key, str) or not key:
            raise InvalidArgumentError(f"script_params keys must be non-empty strings, got {key!r}.")
        if value is not None and not isinstance(value, SCALARS + (DataReference,)):
            raise InvalidArgumentError(f"script_params[{key!r}] is a {type(value).__name__}; values must be str, "
                                       "int, float, bool, None or a datastore path.")
        arguments.append(key)
        if value is not None:
            arguments.append(value)
    return arguments


def compute_target_name(compute_target):
    if compute_target is None or compute_target == "local":
        return None
    if isinstance(compute_target, str):
        return compute_target
    name = getattr(compute_target, "name", None)
    if not name:
        raise InvalidArgumentError(f"compute_target must be a ComputeTarget, its name or 'local', got {compute_target!r}.")
    return name


def build_run_spec(experiment_name, source_directory, script, arguments, environment, compute_target, tags,
                   max_run_duration_seconds, network=True):
    """Check what only exists at submit time (files) and describe the run for a backend."""
    source = Path(source_directory)
    if not source.is_dir():
        raise InvalidArgumentError(f"source_directory {str(source)!r} does not exist or is not a directory "
                                   f"(resolved from {Path.cwd()}).")
    if not script or not (source / script).is_file():
        present = sorted(p.name for p in source.glob("*.py"))[:20]
        raise InvalidArgumentError(f"Entry script {script!r} was not found in source_directory {str(source)!r}. "
                                   f"Python files there: {', '.join(present) or '(none)'}.")
    if tags is not None and not isinstance(tags, dict):
        raise InvalidArgumentError("tags must be a dict of str to str.")
    return RunSpec(experiment=experiment_name, source_directory=str(source.resolve()), script=script,
                   arguments=tuple(a._spec() if isinstance(a, DataReference) else _argument_text(a) for a in arguments),
                   environment=environment._spec(), compute_target=compute_target_name(compute_target),
                   tags=dict(tags or {}), max_run_duration_seconds=max_run_duration_seconds, network=network)


def _argument_text(value):
    """How azureml passes a scalar argument on the command line (True -> "True", 1.0 -> "1.0")."""
    return str(value)
