"""Threat: other users of the machine reading a workspace (its database, run files, models,
specs) because amlocal left them group- or world-readable.

AMLOCAL_HOME and everything amlocal creates under it is private to the user: directories
0700, files 0600. Two kinds of files are readable by others on purpose, because a job that
runs as another user (``nobody``, when amlocal itself runs as root) must read them: the
read-only snapshot objects hard-linked into a job's working directory, and datastore files
mounted into a job. Both sit below the 0700 workspace directory, so no other user of the
machine can reach them, and neither is ever writable by anyone but the user.
"""

import os
import stat

import pytest

from amlocal.core import Environment

from job_helpers import finish, submit

pytestmark = pytest.mark.docker

JOB = '''
import os
from azureml.core.run import Run
run = Run.get_context()
run.log("accuracy", 0.9)
run.tag("kind", "privacy")
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.pkl", "w") as out:
    out.write("weights")
with open("notes.txt", "w") as out:
    out.write("notes")
run.upload_file("extra/notes.txt", "notes.txt")
print("done", flush=True)
'''

#: readable by a job of another uid, by design (see the module docstring)
JOB_READABLE = ("snapshot-store/objects/", "snapshot-store/trees/", "datastores/")


def test_everything_under_amlocal_home_is_private_after_a_real_run(docker_ws, project, tmp_path):
    home = tmp_path / "home"
    assert not home.exists()
    docker_ws.get_default_datastore().upload(src_dir=str(project / "data"), target_path="iris", overwrite=True,
                                             show_progress=False)
    run = submit(docker_ws, project, JOB)
    assert finish(run)["status"] == "Completed"
    run.register_model(model_name="private-model", model_path="outputs/model.pkl")
    Environment("private-env").register(docker_ws)

    workspace = docker_ws.stores.layout.root
    names = {p.name for p in workspace.iterdir()}
    assert {"amlocal.db", "amlocal.db-wal", "amlocal.db-shm", "runs", "models", "environments", "datastores",
            "snapshot-store"} <= names  # the database's WAL files are checked too (this process has it open)
    assert (docker_ws.stores.layout.run_spec(run.id)).exists()
    exposed = []
    for path in [home, *home.rglob("*")]:
        info = os.lstat(path)
        relative = path.relative_to(workspace).as_posix() + ("/" if stat.S_ISDIR(info.st_mode) else "") \
            if path != home and workspace in path.parents else str(path)
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISLNK(info.st_mode):
            continue
        if relative.startswith(JOB_READABLE):
            if mode & 0o022:
                exposed.append(f"{oct(mode)} {relative} (writable by others)")
            continue
        if mode & 0o077:
            exposed.append(f"{oct(mode)} {relative}")
    assert exposed == [], "group/world-accessible under AMLOCAL_HOME:\n" + "\n".join(exposed)
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700 and stat.S_IMODE(os.stat(workspace).st_mode) == 0o700


READS_DATA = '''
import os, sys
for path in sys.argv[1:]:
    if os.path.isfile(path):
        print("RESULT file " + os.path.basename(path) + " " + open(path).readline().strip(), flush=True)
        continue
    names = sorted(os.path.relpath(os.path.join(d, n), path) for d, _, files in os.walk(path) for n in files)
    print("RESULT " + path.rsplit("/", 1)[-1] + " " + ",".join(names) + " " +
          "|".join(open(os.path.join(path, n)).readline().strip() for n in names), flush=True)
'''


def test_private_files_still_leave_a_job_its_data_mounted_and_downloaded(docker_ws, project):
    ds = docker_ws.get_default_datastore()
    ds.upload(src_dir=str(project / "data"), target_path="iris", overwrite=True, show_progress=False)
    run = submit(docker_ws, project, READS_DATA,
                 arguments=[ds.path("iris").as_mount(), ds.path("iris").as_download(path_on_compute="copied"),
                            ds.path("iris/iris/iris.csv").as_download()])

    assert finish(run)["status"] == "Completed", run.get_details().get("error")
    lines = [line for line in run.get_details_with_logs()["logFiles"]["azureml-logs/70_driver_log.txt"].splitlines()
             if line.startswith("RESULT ")]
    assert len(lines) == 3 and all("iris.csv" in line and "sepal" in line for line in lines), lines
