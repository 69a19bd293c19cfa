"""Cached virtualenvs built from an EnvironmentSpec's pip packages: the process backend's
environments, and the "image" of a run in the azureml backend's fake (``amlocal_azureml.fake``).

A virtualenv is built as the docker backend builds an image (``amlocal.local.plan_packages`` and
``install_steps``: uv when it is there, else pip; wheels from the host wheel cache; bytecode from
the store). ``virtualenv(environment, build_log, should_stop)`` returns (the venv's python, its
warnings): a cache hit costs one ``stat``. It uses the interpreter the environment asks for when
this machine has it (on PATH, under pyenv, among uv's managed Pythons), else amlocal's own, with
the pins that have no wheel for it moved to their nearest release that has one (the warnings say
so). A failed install raises EnvironmentBuildError (the log holds the installer's output);
``should_stop()`` turning true raises PreparationCanceled.
"""

import json
import os
import shutil
import sys
import time

from amlocal.exceptions import EnvironmentBuildError
from amlocal.local import (BYTECODE_SCRIPT, GarbageItem, Place, PreparationCanceled, build_in_progress, build_lock,
                           bytecode_store, cache_dir, choose_python, command_lines, environment_key, failure_advice, find_uv,
                           host_interpreter, install_steps, last_used, mark_used, pip_settings, plan_packages,
                           ready_marker, run_logged, size_of, this_interpreter)


def choose_interpreter(requested, uv=None):
    """The PythonChoice for an environment asking for Python ``requested``: this machine's
    interpreter of that version when there is one, else amlocal's own (with a note)."""
    default = this_interpreter()
    choice = choose_python(requested, default, {}, "this machine")
    found = None if choice.matches else host_interpreter(requested, uv)
    if found is None:
        return choice
    return choose_python(requested, default, {".".join(requested.split(".")[:2]): found}, "this machine")


def virtualenv(environment, build_log, should_stop, choice=None):
    """(path of the venv's python, its warnings) for ``environment``'s pip packages and options,
    on ``choice`` (a PythonChoice; default: ``choose_interpreter(environment.python_version)``)."""
    uv = find_uv()
    choice = choice or choose_interpreter(environment.python_version, uv)
    python = choice.interpreter
    settings = pip_settings()
    key = environment_key(environment, f"host-python:{python.path}:{python.version}", settings)
    venv = venvs_root() / key[:24]
    mark_used("venv", venv.name)
    if not ready_marker(venv).exists():
        with build_lock(f"venv-{venv.name}"):
            if not ready_marker(venv).exists():
                _build(venv, environment, choice, uv, settings, build_log, should_stop)
    return str(venv / "bin" / "python"), _warnings_of(venv)


def venvs_root():
    return cache_dir() / "venvs"


def garbage(older_than, now):
    """``amlocal gc --images`` for virtualenvs: those no build is making, no process of this
    machine runs from (a job of any workspace), and none used for ``older_than`` seconds."""
    root = venvs_root()
    if not root.is_dir():
        return []
    running = _venvs_running(root)
    items = []
    for venv in sorted(root.iterdir()):
        if not venv.is_dir() or venv.is_symlink() or venv.name in running or build_in_progress(f"venv-{venv.name}"):
            continue
        used = last_used("venv", venv.name) or venv.stat().st_mtime
        if now - used > older_than:
            items.append(GarbageItem("environment virtualenv", f"{venv} (last used "
                                     f"{time.strftime('%Y-%m-%d', time.localtime(used))})", size_of(venv),
                                     lambda path=venv: shutil.rmtree(path, ignore_errors=True)))
    return items


def _venvs_running(root):
    """Names of the virtualenvs under ``root`` that a process of this machine was started from
    (its command line names a path inside one: a job, or its wrapper)."""
    prefix = os.fsencode(str(root)) + b"/"
    names = set()
    for _, arguments in command_lines():
        for argument in arguments:
            if argument.startswith(prefix):
                names.add(os.fsdecode(argument[len(prefix):].split(b"/", 1)[0]))
    return names


def _build(venv, environment, choice, uv, settings, log, should_stop):
    started = time.monotonic()
    python = choice.interpreter
    shutil.rmtree(venv, ignore_errors=True)
    log.write(f"Building virtual environment {venv.name} (Python {python.version})\n")
    if choice.note:
        log.write(f"Note: {choice.note}\n")
    cache_tag = sys.implementation.cache_tag if python.path == sys.executable else \
        "cpython-" + "".join(python.version.split(".")[:2])
    plan = plan_packages(list(environment.pip_packages), list(environment.pip_options), python.version, cache_tag,
                         adapt=not choice.matches, index=settings, log=log, uv=uv, should_stop=should_stop)
    # uv reads no pip configuration: it gets the user's indexes, file:// ones included (this is the host)
    place = Place(venv_python=python.path, prefix=str(venv), wheels=str(plan.wheels),
                  bytecode_script=str(BYTECODE_SCRIPT), uv=uv,
                  bytecode_store=str(bytecode_store()) if plan.bytecode_stored else None,
                  cert=settings.get("cert"), index=settings if plan.installer == "uv" else None,
                  pip=(sys.executable, "-m", "pip"), uv_cache=str(cache_dir() / "uv"))
    steps, variables = install_steps(plan, place)
    code = 0
    for step in steps:
        if should_stop():
            break
        log.write(step.announce + "\n")
        code = run_logged(list(step.argv), log, env={**os.environ, **variables}, should_stop=should_stop)
        if code != 0:
            break
    if code != 0 or should_stop():
        shutil.rmtree(venv, ignore_errors=True)
        if should_stop():
            raise PreparationCanceled()
        raise EnvironmentBuildError(
            f"installing {', '.join(plan.packages) or 'the environment'} failed (exit code {code}); see "
            f"azureml-logs/20_image_build_log.txt.{failure_advice(plan, choice)}")
    warnings = [w for w in (choice.note, *plan.moves) if w]
    for warning in warnings:
        log.write(f"Warning: {warning}\n")
    ready_marker(venv).write_text(json.dumps({"warnings": warnings}))
    log.write(f"Environment ready in {time.monotonic() - started:.1f} s\n")


def _warnings_of(venv):
    try:
        warnings = json.loads(ready_marker(venv).read_text() or "{}").get("warnings")
    except (OSError, ValueError, AttributeError):
        return []
    return [w for w in warnings if isinstance(w, str)] if isinstance(warnings, list) else []
