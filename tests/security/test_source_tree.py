"""Threat: a source directory whose links lead to host secrets (``/etc``, a ``~/.ssh``-like
directory), dangle or loop; and a big ignored ``.venv`` snapshotted into every run.

The rule a user sees: links that stay inside the tree are snapshotted as their content;
links that leave it, dangle or loop are skipped, named in a warning printed at submit and
in the run's control log, and never copied. ``.amlignore`` (or, without it, ``.gitignore``)
is honoured as azureml does.
"""

import os

import pytest

from job_helpers import contains_anywhere, control_log, finish, host_secret, job_config, job_json
from amlocal.core import Experiment

pytestmark = pytest.mark.docker

LIST_TREE = '''
import json, os
seen = sorted(os.path.relpath(os.path.join(d, n), ".") for d, dirs, names in os.walk(".") for n in dirs + names)
print("RESULT " + json.dumps(seen), flush=True)
'''


def test_links_out_of_the_source_tree_are_skipped_with_a_warning_and_never_copied(docker_ws, project, tmp_path,
                                                                                   capfd):
    secret, marker = host_secret(tmp_path, "id_rsa")
    ssh_like = secret.parent
    config = job_config(project, "job.py", LIST_TREE, folder="src")
    source = project / "src"
    (source / "lib").mkdir()
    (source / "lib" / "util.py").write_text("u = 1\n")
    (source / "util_link.py").symlink_to("lib/util.py")
    (source / "etc").symlink_to("/etc")
    (source / "ssh").symlink_to(ssh_like)
    (source / "id_rsa").symlink_to(secret)
    (source / "dangling").symlink_to(tmp_path / "nowhere")
    (source / "lib" / "loop").symlink_to("..")

    run = Experiment(docker_ws, "links").submit(config)
    printed = capfd.readouterr().err

    assert finish(run)["status"] == "Completed"
    seen = set(job_json(docker_ws, run.id))
    assert {"job.py", "lib/util.py", "util_link.py"} <= seen
    assert not {"etc", "ssh", "id_rsa", "dangling", "lib/loop"} & seen
    for name in ("etc", "ssh", "id_rsa", "dangling", "lib/loop"):
        assert name in printed, f"{name} not named at submit:\n{printed}"
    log = control_log(docker_ws, run.id)
    for name, reason in (("etc", "outside the source directory"), ("ssh", "outside the source directory"),
                         ("id_rsa", "outside the source directory"), ("dangling", "dangling"),
                         ("lib/loop", "a loop")):
        assert any(name in line and reason in line for line in log.splitlines()), f"{name}: {reason}\n{log}"
    assert contains_anywhere(docker_ws.stores.layout.root, marker) == []
    assert contains_anywhere(docker_ws.stores.layout.root, "root:x:0:0") == []


def test_amlignore_then_gitignore_keep_a_big_venv_out_of_the_snapshot(docker_ws, project):
    for ignore_file in (".amlignore", ".gitignore"):
        config = job_config(project, "job.py", LIST_TREE, folder=f"proj{ignore_file}")
        source = project / f"proj{ignore_file}"
        (source / ignore_file).write_text(".venv/\n*.log\n")
        venv = source / ".venv" / "lib"
        venv.mkdir(parents=True)
        for index in range(8):
            (venv / f"blob{index}.so").write_bytes(os.urandom(1 << 20))
        (source / "debug.log").write_text("noise")
        (source / "data.csv").write_text("1,2\n")

        run = Experiment(docker_ws, "ignore").submit(config)

        assert finish(run)["status"] == "Completed"
        seen = set(job_json(docker_ws, run.id))
        assert "data.csv" in seen and "job.py" in seen, ignore_file
        assert not [name for name in seen if name.startswith(".venv") or name.endswith(".log")], (ignore_file, seen)
        snapshot = docker_ws.stores.layout.run_snapshot(run.id)
        assert not (snapshot / ".venv").exists()
        assert sum(p.stat().st_size for p in snapshot.rglob("*") if p.is_file()) < 100_000
