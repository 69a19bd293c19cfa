"""Every line a job prints reaches ``azureml-logs/70_driver_log.txt``, even ~200 MB of it
followed by a crash (whose traceback is then in ``error["log_tail"]``), and ``amlocal run
logs`` streams a large log in bounded memory.
"""

import json
import os
import subprocess
import sys

import pytest

from job_helpers import finish, submit

pytestmark = pytest.mark.docker

LINES = 2_000_000  # of 100 bytes: 200 MB
FLOOD = '''
import sys
out = sys.stdout
pad = "x" * 84
for index in range(%d):
    out.write("line %%09d %%s\\n" %% (index, pad))
out.flush()
raise ValueError("the flood is over")
''' % LINES

#: peak RSS the CLI may reach while printing a 200 MB log (Python and amlocal take ~30 MB)
CLI_RSS_BUDGET_KB = 120 << 10

MEASURE = '''
import resource, subprocess, sys
with open(sys.argv[1], "wb") as out:
    code = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.DEVNULL).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
'''


@pytest.fixture(scope="module")
def flooded(tmp_path_factory, base_image):
    """One run that printed 200 MB then raised (shared by this module's tests)."""
    from amlocal.core import Workspace

    root = tmp_path_factory.mktemp("flood")
    project = root / "project"
    project.mkdir()
    (project / "config.json").write_text(json.dumps({"subscription_id": "s", "resource_group": "r",
                                                     "workspace_name": "flood-ws"}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AMLOCAL_HOME", str(root / "home"))
        patch.chdir(project)
        ws = Workspace.from_config(backend="docker")
        run = submit(ws, project, FLOOD, experiment="flood")
        details = finish(run, 300)
        yield ws, project, run, details


def test_every_line_of_a_200_mb_flood_then_the_traceback_are_kept(flooded):
    ws, project, run, details = flooded
    assert details["status"] == "Failed"
    assert "ValueError: the flood is over" in details["error"]["log_tail"]
    path = ws.stores.layout.run_files(run.id) / "azureml-logs" / "70_driver_log.txt"
    expected, missing = 0, []
    with open(path, "rb") as log:
        for line in log:
            if line.startswith(b"line "):
                number = int(line[5:14])
                if number != expected:
                    missing.append((expected, number))
                    break
                expected += 1
    assert missing == [] and expected == LINES, f"{expected} lines in order; first gap {missing}"


def test_run_logs_prints_a_200_mb_log_in_bounded_memory(flooded, tmp_path):
    ws, project, run, _ = flooded
    log_size = (ws.stores.layout.run_files(run.id) / "azureml-logs" / "70_driver_log.txt").stat().st_size
    printed = tmp_path / "printed.txt"

    measured = subprocess.run([sys.executable, "-c", MEASURE, str(printed), sys.executable, "-m", "amlocal.cli",
                               "--backend", "docker", "run", "logs", run.id],
                              cwd=str(project), capture_output=True, text=True, timeout=300,
                              env={**os.environ, "AMLOCAL_HOME": str(ws.stores.layout.root.parent)})

    code, peak_kb = map(int, measured.stdout.split())
    assert code == 0, measured.stderr
    assert printed.stat().st_size >= log_size
    assert peak_kb < CLI_RSS_BUDGET_KB, f"amlocal run logs peaked at {peak_kb / 1024:.0f} MB for a " \
                                        f"{log_size / 1e6:.0f} MB log"
