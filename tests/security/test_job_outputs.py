"""Threat: a job turns ``./outputs`` (collected into run history after it ends) into links to host
files, so that collection copies or moves host files and ``register_model`` +
``Model.download`` hand them over.

Collection copies the job's regular files only: a link is never followed, nothing is moved,
and the control log says what was left out.
"""

import os

import pytest

from amlocal.core import Model
from amlocal.exceptions import ModelPathNotFoundException

from job_helpers import contains_anywhere, control_log, finish, host_secret, submit

pytestmark = pytest.mark.docker

LINKED_MODEL = '''
import os, sys
os.makedirs("outputs/bundle", exist_ok=True)
os.symlink(sys.argv[1], "outputs/model.pkl")
os.symlink(os.path.dirname(sys.argv[1]), "outputs/bundle/host")
with open("outputs/bundle/weights.bin", "w") as out:
    out.write("trained weights")
print("links made", flush=True)
'''

LINKED_OUTPUTS = '''
import os, shutil, sys
shutil.rmtree("outputs", ignore_errors=True)
os.symlink(sys.argv[1], "outputs")
print("outputs now links to", sys.argv[1], flush=True)
'''


def test_a_model_linked_to_a_host_file_is_not_collected_registered_or_downloaded(docker_ws, project, tmp_path):
    secret, marker = host_secret(tmp_path)
    run = submit(docker_ws, project, LINKED_MODEL, arguments=[str(secret)])

    assert finish(run)["status"] == "Completed"

    files = run.get_file_names()
    assert "outputs/model.pkl" not in files and "outputs/bundle/weights.bin" in files
    assert not [f for f in files if f.startswith("outputs/bundle/host")]
    log = control_log(docker_ws, run.id)
    assert "outputs/model.pkl was not collected: a symbolic link" in log
    assert "outputs/bundle/host was not collected: a symbolic link" in log
    with pytest.raises(ModelPathNotFoundException):
        run.register_model(model_name="stolen", model_path="outputs/model.pkl")
    model = run.register_model(model_name="bundle", model_path="outputs/bundle")
    downloaded = tmp_path / "downloaded"
    Model(docker_ws, "bundle", version=model.version).download(target_dir=str(downloaded))
    assert contains_anywhere(downloaded, marker) == []
    assert sorted(p.name for p in downloaded.rglob("*") if p.is_file()) == ["weights.bin"]
    assert contains_anywhere(docker_ws.stores.layout.root, marker) == []
    assert secret.read_text().startswith(marker)


def test_outputs_linked_to_a_host_directory_leaves_that_directory_intact(docker_ws, project, tmp_path):
    secret, marker = host_secret(tmp_path)
    host_dir = secret.parent
    (host_dir / "notes.txt").write_text("keep me")
    before = sorted(p.name for p in host_dir.iterdir())

    run = submit(docker_ws, project, LINKED_OUTPUTS, arguments=[str(host_dir)])

    assert finish(run)["status"] == "Completed"
    assert sorted(p.name for p in host_dir.iterdir()) == before
    assert secret.read_text().startswith(marker) and (host_dir / "notes.txt").read_text() == "keep me"
    assert [f for f in run.get_file_names() if f.startswith("outputs")] == []
    assert "outputs was not collected: a symbolic link" in control_log(docker_ws, run.id)
    assert contains_anywhere(docker_ws.stores.layout.root, marker) == []
    with pytest.raises(ModelPathNotFoundException):
        run.register_model(model_name="stolen", model_path="outputs")
    assert os.path.isdir(host_dir)
