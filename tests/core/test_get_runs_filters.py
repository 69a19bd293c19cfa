"""Experiment.get_runs filters by type, tags and properties, and leaves children out unless asked,
as azureml does."""

import pytest

from amlocal.core import Environment, Experiment, ScriptRunConfig
from amlocal.exceptions import InvalidArgumentError


def submit(ws, project, tags=None):
    folder = project / "jobs"
    folder.mkdir(exist_ok=True)
    (folder / "job.py").write_text("print('x')\n")
    run = Experiment(ws, "filters").submit(
        ScriptRunConfig(source_directory=str(folder), script="job.py", environment=Environment("stdlib")), tags=tags)
    run.wait_for_completion()
    return run


def test_tags_filter_by_key_or_key_and_value(ws, project):
    dev = submit(ws, project, {"stage": "dev", "team": "ml"})
    prod = submit(ws, project, {"stage": "prod"})
    plain = submit(ws, project)
    exp = Experiment(ws, "filters")

    assert {r.id for r in exp.get_runs()} == {dev.id, prod.id, plain.id}
    assert [r.id for r in exp.get_runs(tags="stage")] == [prod.id, dev.id]
    assert [r.id for r in exp.get_runs(tags={"stage": "dev"})] == [dev.id]
    assert [r.id for r in exp.get_runs(tags={"stage": "dev", "team": "ml"})] == [dev.id]
    assert list(exp.get_runs(tags={"stage": "qa"})) == []


def test_type_filter_and_children(ws, project):
    run = submit(ws, project)
    exp = Experiment(ws, "filters")

    assert [r.id for r in exp.get_runs(type="azureml.scriptrun")] == [run.id]
    assert list(exp.get_runs(type="hyperdrive")) == []
    interactive = exp.start_logging()
    interactive.complete()
    assert [r.id for r in exp.get_runs(type="azureml.scriptrun")] == [run.id]


def test_a_filter_of_the_wrong_shape_is_refused(ws):
    with pytest.raises(InvalidArgumentError):
        list(Experiment(ws, "filters").get_runs(tags=["stage"]))
