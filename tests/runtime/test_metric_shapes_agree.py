"""One metric aggregation: every metric kind logged from a job (the in-job shim) and from the
host (an interactive run) reads back the same, and as azureml's metrics v2 shape it."""

import json
import textwrap


from amlocal.core import Experiment, Workspace

LOGGING = """
run.log("once", 1)
run.log("loss", 0.5)
run.log("loss", 0.25)
run.log_list("folds", [1, 2])
run.log_list("folds", [3])
run.log_list("single_list", [9])
run.log_row("curve", x=1, y=2)
run.log_row("curve", x=2, y=4)
run.log_row("row_once", a=1, b="z")
run.log_table("table", {"a": [1, 2], "b": [3, 4]})
run.log_table("table_once", {"a": [5], "b": [6]})
run.log_confusion_matrix("cm", {"schema_type": "confusion_matrix", "data": {"matrix": [[1, 0], [0, 1]]}})
"""

EXPECTED = {
    "once": 1, "loss": [0.5, 0.25], "folds": [1, 2, 3], "single_list": 9,
    "curve": {"x": [1, 2], "y": [2, 4]}, "row_once": {"a": 1, "b": "z"},
    "table": {"a": [1, 2], "b": [3, 4]}, "table_once": {"a": 5, "b": 6},
}


def test_job_and_host_shape_every_kind_alike(project):
    ws = Workspace.from_config(backend="process")
    host = Experiment(ws, "shapes").start_logging()
    exec(textwrap.dedent(LOGGING), {"run": host})
    host.complete()

    folder = project / "jobs"
    folder.mkdir()
    (folder / "log.py").write_text("import json\nfrom azureml.core.run import Run\nrun = Run.get_context()\n" +
                                   textwrap.dedent(LOGGING) + "print(json.dumps(run.get_metrics()))\n")
    from amlocal.core import Environment, ScriptRunConfig

    job = Experiment(ws, "shapes").submit(ScriptRunConfig(source_directory=str(folder), script="log.py",
                                                          environment=Environment("stdlib")))
    job.wait_for_completion()

    from_host, from_job = host.get_metrics(), job.get_metrics()
    for name, shaped in EXPECTED.items():
        assert from_host[name] == shaped == from_job[name], name
    # an artifact-backed metric reads back as its location, the same way on both sides
    assert from_host["cm"].startswith("aml://artifactId/ExperimentRun/dcid.")
    assert from_job["cm"].startswith("aml://artifactId/ExperimentRun/dcid.")
    assert job.get_metrics(populate=True)["cm"]["data"]["matrix"] == [[1, 0], [0, 1]]
    # what the job itself saw (its shim's get_metrics) agrees too
    in_job = json.loads(job.get_details_with_logs()["logFiles"]["azureml-logs/70_driver_log.txt"].splitlines()[-1])
    for name, shaped in EXPECTED.items():
        assert in_job[name] == shaped, name
