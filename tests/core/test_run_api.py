"""The Run API on the submitting side, through an interactive run (Experiment.start_logging)."""

from pathlib import Path

import pytest

from amlocal.core import Experiment, Run, Workspace
from amlocal.exceptions import InvalidArgumentError, RunError, RunNotFoundError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_metric_shapes(run):
    run.log("once", 0.5)
    run.log("twice", 1)
    run.log("twice", 2)
    run.log_list("losses", [0.9, 0.5, 0.25])
    run.log_row("roc", fpr=0.0, tpr=0.1)
    run.log_row("roc", fpr=0.5, tpr=0.8)
    run.log_table("table", {"k": [1, 2], "score": [0.1, 0.2]})
    run.log("text", "hello")

    metrics = run.get_metrics()

    assert metrics["once"] == 0.5
    assert metrics["twice"] == [1, 2]
    assert metrics["losses"] == [0.9, 0.5, 0.25]
    assert metrics["roc"] == {"fpr": [0.0, 0.5], "tpr": [0.1, 0.8]}
    assert metrics["table"] == {"k": [1, 2], "score": [0.1, 0.2]}
    assert metrics["text"] == "hello"
    assert run.get_metrics("twice") == {"twice": [1, 2]}
    assert run.get_metrics("absent") == {}


def test_numpy_values_are_logged_as_plain_values(run):
    numpy = pytest.importorskip("numpy")

    run.log("acc", numpy.float32(0.25))
    run.log_list("arr", numpy.array([1, 2, 3]))

    assert run.get_metrics() == {"acc": 0.25, "arr": [1, 2, 3]}
    assert type(run.get_metrics()["acc"]) is float


def test_log_image_from_a_path(run, project):
    image = project / "plot.png"
    image.write_bytes(PNG)

    run.log_image("confusion", path=str(image))

    names = [n for n in run.get_file_names() if n.startswith("confusion")]
    assert len(names) == 1 and names[0].endswith(".png")
    assert run.get_metrics()["confusion"].endswith(names[0])
    assert Path(run.download_file(names[0], str(project / "back.png"))).read_bytes() == PNG


def test_log_image_needs_a_path_or_a_plot(run):
    with pytest.raises(InvalidArgumentError, match="path= or plot="):
        run.log_image("nothing")


def test_tags(run):
    run.tag("stage", "dev")
    run.tag("flag")
    run.set_tags({"team": "a", "stage": "prod", "n": 3})

    assert run.get_tags() == {"stage": "prod", "flag": None, "team": "a", "n": "3"}
    with pytest.raises(InvalidArgumentError):
        run.set_tags(["not", "a", "dict"])


def test_files_upload_list_and_download(run, project, tmp_path):
    (project / "model.pkl").write_bytes(b"model")
    (project / "metrics.json").write_text("{}")
    run.upload_file("outputs/model.pkl", str(project / "model.pkl"))
    run.upload_file("outputs/eval/metrics.json", str(project / "metrics.json"))
    run.upload_file("notes.txt", str(project / "metrics.json"))

    assert run.get_file_names() == ["notes.txt", "outputs/eval/metrics.json", "outputs/model.pkl"]

    single = Path(run.download_file("outputs/model.pkl", str(tmp_path / "one" / "model.pkl")))
    assert single.read_bytes() == b"model"
    into_dir = tmp_path / "dir"
    into_dir.mkdir()
    assert Path(run.download_file("outputs/model.pkl", str(into_dir))) == into_dir / "model.pkl"
    assert Path(run.download_file("notes.txt")).resolve() == project / "notes.txt"
    assert (project / "notes.txt").read_text() == "{}"

    written = run.download_files(prefix="outputs", output_directory=str(tmp_path / "all"))
    assert sorted(Path(p).relative_to(tmp_path / "all").as_posix() for p in written) == [
        "outputs/eval/metrics.json", "outputs/model.pkl"]
    assert (tmp_path / "all" / "outputs" / "model.pkl").read_bytes() == b"model"
    assert not (tmp_path / "all" / "notes.txt").exists()


def test_download_of_a_missing_file_lists_the_files(run, project):
    (project / "m.txt").write_text("m")
    run.upload_file("outputs/m.txt", str(project / "m.txt"))

    with pytest.raises(RunError) as caught:
        run.download_file("outputs/nope.txt", str(project / "x"))

    assert "outputs/nope.txt" in str(caught.value) and "outputs/m.txt" in str(caught.value)


def test_upload_outside_the_run_is_refused(run, project):
    (project / "m.txt").write_text("m")

    with pytest.raises(RunError, match=r"'\.\."):
        run.upload_file("../escape.txt", str(project / "m.txt"))


def test_status_from_running_to_completed(run):
    assert run.get_status() == "Running"

    run.complete()

    assert run.get_status() == "Completed"
    details = run.get_details()
    assert details["status"] == "Completed" and details["runId"] == run.id
    assert details["startTimeUtc"] and details["endTimeUtc"]
    assert run.wait_for_completion()["status"] == "Completed"


def test_failed_run(run):
    run.fail(error_details="bad data")

    assert run.get_status() == "Failed"
    assert run.get_details()["error"]["message"] == "bad data"


def test_run_get_finds_the_run_from_another_workspace_object(run, project):
    run.log("acc", 0.9)
    run.tag("k", "v")
    run.complete()

    again = Run.get(Workspace.from_config(backend="process"), run.id)

    assert again.id == run.id
    assert again.experiment.name == "unit-exp"
    assert again.get_status() == "Completed"
    assert again.get_metrics() == {"acc": 0.9}
    assert again.get_tags() == {"k": "v"}


def test_experiment_lists_its_runs(ws, exp):
    first = exp.start_logging()
    second = exp.start_logging()
    Experiment(ws, "other").start_logging()

    assert {r.id for r in exp.get_runs()} == {first.id, second.id}
    assert {"unit-exp", "other"} <= set(ws.experiments)


def test_run_get_of_an_unknown_id(ws):
    with pytest.raises(RunNotFoundError) as caught:
        Run.get(ws, "no_such_run_123")

    assert "'no_such_run_123'" in str(caught.value)
