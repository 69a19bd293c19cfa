"""What went wrong without failing a run is listed in ``get_details()["warnings"]`` and printed
under "Warnings:" in the execution summary, as azureml lists and prints a run's warnings."""

import os

from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace

WRITES_A_LINKED_OUTPUT = """
import os
os.makedirs("outputs", exist_ok=True)
open("outputs/model.txt", "w").write("model")
os.symlink("/etc/hostname", "outputs/host_file")
"""


def submit(project, body):
    (project / "job").mkdir()
    (project / "job" / "train.py").write_text(body)
    config = ScriptRunConfig(source_directory="job", script="train.py", environment=Environment("stdlib"))
    return Experiment(Workspace.from_config(backend="process"), "warned"), config


def test_a_run_lists_its_warnings_and_the_summary_prints_them(project, capsys):
    experiment, config = submit(project, WRITES_A_LINKED_OUTPUT)
    os.symlink(project / "nowhere", project / "job" / "dangling.csv")

    run = experiment.submit(config)
    details = run.wait_for_completion(show_output=True)

    assert details["status"] == "Completed"
    messages = [w["message"] for w in run.get_details()["warnings"]]
    assert any("dangling.csv" in m for m in messages), messages  # left out of the snapshot
    assert any("outputs/host_file" in m for m in messages), messages  # a link, not collected
    assert all(w["source"] for w in run.get_details()["warnings"])
    printed = capsys.readouterr().out
    summary = printed.split("Execution Summary", 1)[1]
    assert "Warnings:" in summary
    assert all(m in summary for m in messages)
    assert "outputs/host_file" not in run.get_file_names()


def test_a_run_without_warnings_lists_none(project, capsys):
    experiment, config = submit(project, "print('fine')\n")

    run = experiment.submit(config)
    run.wait_for_completion(show_output=True)

    assert "warnings" not in run.get_details()
    assert "Warnings:" not in capsys.readouterr().out
