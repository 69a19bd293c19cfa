"""`amlocal gc`, `amlocal run delete`, `amlocal model delete`: space comes back, history stays,
and nothing a run that has not ended needs is touched."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from amlocal.core import Environment, Experiment, Model, Run, ScriptRunConfig, Workspace
from amlocal.exceptions import InvalidArgumentError

from support import wait_until


@pytest.fixture
def ws(project):
    return Workspace.from_config(backend="process")


def stdlib_run(ws, project, body="print('hi')\n", name="job.py"):
    folder = project / "jobs"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(body))
    config = ScriptRunConfig(source_directory=str(folder), script=name, environment=Environment("stdlib"))
    return Experiment(ws, "gc").submit(config)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "amlocal.cli", "--backend", "process", *args],
                          capture_output=True, text=True, timeout=120)


def test_dry_run_frees_nothing_and_gc_keeps_history(ws, project):
    runs = [stdlib_run(ws, project, "import os; os.makedirs('outputs'); open('outputs/m.txt','w').write('m')\n")
            for _ in range(3)]
    for run in runs:
        run.wait_for_completion()
    layout = ws.backend.layout
    snapshots = [layout.run_snapshot(run.id) for run in runs]
    assert all(os.path.lexists(s) for s in snapshots)

    dry = cli("gc", "--dry-run", "--keep-last", "1")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("would free snapshot") == 2
    assert all(os.path.lexists(s) for s in snapshots)

    done = cli("gc", "--keep-last", "1")
    assert done.returncode == 0, done.stderr
    assert "freed" in done.stderr
    newest_first = sorted(runs, key=lambda r: r.get_details()["endTimeUtc"], reverse=True)
    assert os.path.lexists(layout.run_snapshot(newest_first[0].id))
    assert not any(os.path.lexists(layout.run_snapshot(r.id)) for r in newest_first[1:])
    for run in runs:  # history stays
        assert Run.get(ws, run.id).get_status() == "Completed"
        assert "outputs/m.txt" in run.get_file_names()


def test_gc_removes_an_interrupted_submit_but_not_a_recent_one(ws, project):
    layout = ws.backend.layout
    old, recent = layout.staging / "exp_1_old", layout.staging / "exp_2_recent"
    for folder in (old, recent):
        (folder / "snapshot").mkdir(parents=True)
        (folder / "snapshot" / "big.bin").write_bytes(b"x" * 10000)
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))

    result = cli("gc")

    assert result.returncode == 0, result.stderr
    assert not old.exists() and recent.exists()
    assert "interrupted submit" in result.stdout


def test_gc_never_touches_a_run_that_has_not_ended(ws, project):
    run = stdlib_run(ws, project, "import time; time.sleep(60)\n")
    wait_until(lambda: run.get_status() == "Running", 60, "the run to start")
    workdir = ws.backend.layout.run_workdir(run.id)
    assert workdir.exists()

    result = cli("gc", "--older-than", "0s")

    assert result.returncode == 0, result.stderr
    assert workdir.exists() and os.path.lexists(ws.backend.layout.run_snapshot(run.id))
    run.cancel()
    run.wait_for_completion(raise_on_error=False)


def test_run_delete_refuses_a_running_run_and_deletes_an_ended_one(ws, project):
    running = stdlib_run(ws, project, "import time; time.sleep(60)\n")
    wait_until(lambda: running.get_status() == "Running", 60, "the run to start")
    refused = cli("run", "delete", running.id)
    assert refused.returncode == 2 and "cancel it first" in refused.stderr
    running.cancel()
    running.wait_for_completion(raise_on_error=False)

    deleted = cli("run", "delete", running.id)

    assert deleted.returncode == 0, deleted.stderr
    assert not ws.backend.layout.run_dir(running.id).exists()
    assert cli("run", "show", running.id).returncode == 3


def test_model_delete_removes_one_version(ws, project, tmp_path):
    model_file = tmp_path / "model.pkl"
    model_file.write_bytes(b"weights")
    Model.register(ws, str(model_file), "m")
    Model.register(ws, str(model_file), "m")

    assert cli("model", "delete", "m").returncode == 2  # which version?
    result = cli("model", "delete", "m:1")

    assert result.returncode == 0, result.stderr
    assert [m.version for m in Model.list(ws, name="m")] == [2]
    with pytest.raises(InvalidArgumentError):
        Model.register(ws, str(model_file), "../m")


def test_gc_images_frees_virtualenvs_and_bytecode_bundles_no_job_runs_from(ws, project, tmp_path, monkeypatch):
    monkeypatch.setenv("AMLOCAL_CACHE", str(tmp_path / "cache"))  # never the shared cache of other tests
    run = stdlib_run(ws, project, "import time; time.sleep(60)\n")
    wait_until(lambda: run.get_status() == "Running", 60, "the run to start")
    venvs = tmp_path / "cache" / "venvs"
    (built,) = list(venvs.iterdir())
    bundles = tmp_path / "cache" / "bytecode" / "bundles"
    bundles.mkdir(parents=True)
    (bundles / "old.tar").write_bytes(b"x" * 100)
    (bundles / "old.constraints.txt").write_text("joblib==1.4.2\n")

    while_running = cli("gc", "--images", "--older-than", "0s")
    assert while_running.returncode == 0, while_running.stderr
    assert built.exists()  # its job runs from it
    assert not (bundles / "old.tar").exists() and not (bundles / "old.constraints.txt").exists()
    assert "freed bytecode bundle" in while_running.stdout

    run.cancel()
    run.wait_for_completion(raise_on_error=False)
    ended = cli("gc", "--images", "--older-than", "0s")
    assert ended.returncode == 0, ended.stderr
    assert "freed environment virtualenv" in ended.stdout, (ended.stdout, ended.stderr, _processes_naming(built))
    assert not built.exists(), sorted(str(p) for p in built.rglob("*"))[:20]

    again = stdlib_run(ws, project)  # the next run builds it again
    again.wait_for_completion()
    assert again.get_status() == "Completed" and built.exists()


def _processes_naming(path):
    """The command lines of this machine's processes that name a path under ``path`` (what gc
    takes for a job still running from it)."""
    from amlocal.local import command_lines

    prefix = str(path).encode()
    return [b" ".join(command).decode(errors="replace") for _, command in command_lines()
            if any(argument.startswith(prefix) for argument in command)]
