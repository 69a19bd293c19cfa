"""A job that fills the disk holding AMLOCAL_HOME: while it is full, ``amlocal run list``
answers (or says in one line that the store is unavailable, exit 4), never with a
traceback; once space returns the run ends Failed with a disk-space reason, not left
Running, and not Completed with records silently missing.

The home is put on a 64 MB tmpfs (mounting needs root; the test is skipped otherwise).
"""

import os
import subprocess

import pytest

from amlocal.core import Workspace

from job_helpers import cli, finish, submit, wait_status
from support import wait_until

pytestmark = pytest.mark.docker

FILL = '''
import os, time
from azureml.core.run import Run
run = Run.get_context()
run.log("before", 1)
info = os.statvfs(".")
if info.f_blocks * info.f_frsize > (256 << 20):  # never fill a real disk: only the test's small tmpfs
    raise SystemExit("refusing to fill a file system of %d bytes" % (info.f_blocks * info.f_frsize))
try:
    with open("filler", "wb") as out:
        while True:
            out.write(b"\\0" * (1 << 20))
            out.flush()
except OSError as error:
    print("the disk is full:", error, flush=True)
while os.path.exists("filler"):  # the test deletes it from outside
    try:
        run.log("while_full", 1)
    except OSError:
        pass
    time.sleep(0.1)
print("space is back", flush=True)
'''


@pytest.fixture
def small_home(project, tmp_path, monkeypatch):
    if os.getuid() != 0:
        pytest.skip("needs root to mount a small tmpfs for AMLOCAL_HOME")
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], check=True)
    monkeypatch.setenv("AMLOCAL_HOME", str(mount / "home"))
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def available(path):
    info = os.statvfs(path)
    return info.f_bavail * info.f_frsize


def test_a_job_filling_the_disk_ends_failed_for_disk_space_and_the_cli_never_crashes(small_home, project,
                                                                                    base_image):
    ws = Workspace.from_config(backend="docker")
    assert small_home in ws.stores.layout.root.parents
    run = submit(ws, project, FILL)
    wait_status(run, ("Running", "Failed", "Completed"))
    wait_until(lambda: available(small_home) < (1 << 20), 60, "the job to fill the disk")

    listed = cli(project, "run", "list", timeout=60)
    assert "Traceback" not in listed.stderr, listed.stderr
    if listed.returncode == 4:
        assert len(listed.stderr.strip().splitlines()) == 1 and listed.stderr.startswith("amlocal: error:")
    else:
        assert listed.returncode == 0 and run.id in listed.stdout, listed.stdout + listed.stderr
    assert run.get_status() == "Running"

    (ws.stores.layout.run_workdir(run.id) / "filler").unlink()

    details = finish(run, 120)
    assert details["status"] == "Failed"
    assert details["error"]["code"] == "DiskFull", details["error"]
    assert "disk" in details["error"]["message"].lower()
    assert ws.run_history.get_metrics(run.id).get("before") == 1
