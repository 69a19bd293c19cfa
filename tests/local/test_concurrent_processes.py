"""Several processes using one local workspace at once: submits, follows and registrations."""

import subprocess
import sys
import textwrap

from amlocal.core import Model, Run, Workspace

SUBMIT_AND_REGISTER = textwrap.dedent("""
    import os
    from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace
    ws = Workspace.from_config(backend="process")
    config = ScriptRunConfig(source_directory="job", script="make_model.py", environment=Environment("stdlib"))
    runs = [Experiment(ws, "parallel").submit(config) for _ in range(3)]
    for run in runs:
        run.wait_for_completion()
        model = run.register_model(model_name="shared-model", model_path="outputs/model.txt")
        print(run.id, model.version)
    """)


def test_two_processes_submit_and_register_at_once(project):
    (project / "job").mkdir()
    (project / "job" / "make_model.py").write_text(
        "import os\nos.makedirs('outputs', exist_ok=True)\nopen('outputs/model.txt', 'w').write('m')\n")
    workers = [subprocess.Popen([sys.executable, "-c", SUBMIT_AND_REGISTER], stdout=subprocess.PIPE, text=True)
               for _ in range(2)]
    lines = []
    for worker in workers:
        out, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0
        lines += out.split("\n")
    pairs = [line.split() for line in lines if line.strip()]
    assert len({run_id for run_id, _ in pairs}) == 6
    assert sorted(int(version) for _, version in pairs) == [1, 2, 3, 4, 5, 6]
    ws = Workspace.from_config()
    assert [m.version for m in Model.list(ws, name="shared-model")] == [6, 5, 4, 3, 2, 1]
    assert all(Run.get(ws, run_id).get_status() == "Completed" for run_id, _ in pairs)
