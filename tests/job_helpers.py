"""What the hostile-job and lifecycle tests share: a workspace per test on a chosen backend,
submitting a small stdlib job, reading a run's logs, timelines and containers.

Jobs here are standard-library scripts (no image build), so each costs a container start.
Containers are always found by this test's run ids or its home label, never by "all
containers": other people use the same engine.
"""

import json
import os
import textwrap
from pathlib import Path

import pytest

from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace
from amlocal.core.compute import AmlCompute, ComputeTarget
from support import wait_until

CONTROL_LOG = "azureml-logs/60_control_log.txt"
DRIVER_LOG = "azureml-logs/70_driver_log.txt"
TERMINAL = ("Completed", "Failed", "Canceled")


@pytest.fixture
def docker_ws(project, base_image):
    return Workspace.from_config(backend="docker")


@pytest.fixture
def process_ws(project):
    return Workspace.from_config(backend="process")


def job_config(project, name, body, folder="jobs", **options):
    """A ScriptRunConfig running ``body`` (dedented) as ``folder/name`` with no packages."""
    directory = Path(project) / folder
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(textwrap.dedent(body))
    options.setdefault("environment", Environment("stdlib"))
    return ScriptRunConfig(source_directory=str(directory), script=name, **options)


def submit(ws, project, body, experiment="hostile", name="job.py", **options):
    return Experiment(ws, experiment).submit(job_config(project, name, body, **options))


def compute(ws, name, max_nodes=1, vm_size="STANDARD_D2_V2"):
    return ComputeTarget.create(ws, name, AmlCompute.provisioning_configuration(vm_size=vm_size, max_nodes=max_nodes))


def wait_status(run, wanted, seconds=60):
    wanted = (wanted,) if isinstance(wanted, str) else tuple(wanted)
    return wait_until(lambda: run.get_status() in wanted and run.get_status(), seconds,
                      f"run {run.id} to reach {' or '.join(wanted)} (it is {run.get_status()})")


def finish(run, seconds=120):
    """Wait for the run's end; its details."""
    wait_status(run, TERMINAL, seconds)
    return run.get_details()


def run_file(ws, run_id, name):
    path = ws.stores.layout.run_files(run_id) / name
    return path.read_text(errors="replace") if path.exists() else ""


def control_log(ws, run_id):
    return run_file(ws, run_id, CONTROL_LOG)


def driver_log(ws, run_id):
    return run_file(ws, run_id, DRIVER_LOG)


def timeline(ws, run_id):
    """{status: first time it was recorded}."""
    found = {}
    for status, when in ws.run_history.status_timeline(run_id):
        found.setdefault(status, when)
    return found


def containers_of(docker_engine, run_id):
    """The engine's list entries (dicts: Id, Labels, State, ...) of ``run_id``'s containers: one
    list call, so a container removed meanwhile cannot make it fail."""
    return docker_engine.api.containers(all=True, filters={"label": f"amlocal.run_id={run_id}"})


def home_containers(docker_engine, ws):
    """List entries of every container (runs and builds) labelled with ``ws``'s home."""
    return docker_engine.api.containers(all=True, filters={"label": f"amlocal.home={ws.backend.home_id}"})


def files_under(root):
    """Every path below ``root`` (relative), without following links."""
    root = Path(root)
    found = set()
    for directory, subdirs, names in os.walk(root):
        for name in subdirs + names:
            found.add(os.path.relpath(os.path.join(directory, name), root))
    return found


def host_secret(tmp_path, name="host-secret.txt"):
    """A host file a job must never get: its content is a unique marker."""
    path = Path(tmp_path) / "host" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    marker = f"HOST-SECRET-{os.urandom(8).hex()}"
    path.write_text(marker + "\n")
    return path, marker


def contains_anywhere(root, marker):
    """Files under ``root`` (links not followed) whose bytes contain ``marker``."""
    hits = []
    needle = marker.encode()
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as handle:
                if needle in handle.read():
                    hits.append(path)
    return hits


def job_json(ws, run_id, marker="RESULT "):
    """The JSON a job printed on a line starting with ``marker``."""
    for line in driver_log(ws, run_id).splitlines():
        if line.startswith(marker):
            return json.loads(line[len(marker):])
    raise AssertionError(f"run {run_id} printed no {marker!r} line; its driver log:\n{driver_log(ws, run_id)[-3000:]}")


def intervals(ws, run_ids, start="Running", end=("Finalizing", "Completed", "Failed", "Canceled")):
    """(start, end) of each run, from its status timeline."""
    spans = []
    for run_id in run_ids:
        line = ws.run_history.status_timeline(run_id)
        begin = next(when for status, when in line if status == start)
        finish_at = next(when for status, when in line if status in end and when >= begin)
        spans.append((begin, finish_at))
    return spans


def most_at_once(spans):
    """The largest number of (start, end) spans that overlap at one instant."""
    points = sorted([(begin, 1) for begin, _ in spans] + [(end, -1) for _, end in spans], key=lambda p: (p[0], p[1]))
    current = best = 0
    for _, step in points:
        current += step
        best = max(best, current)
    return best



def cli(project, *args, timeout=120, backend="docker"):
    """``amlocal [--backend B] ARGS...`` run in ``project`` with this test's AMLOCAL_HOME."""
    import subprocess
    import sys

    options = ["--backend", backend] if backend else []
    return subprocess.run([sys.executable, "-m", "amlocal.cli", *options, *map(str, args)], cwd=str(project),
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def python(project, code, **options):
    """A Popen of ``python -c code`` in ``project`` (stdout and stderr piped, text)."""
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=str(project), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, **options)
