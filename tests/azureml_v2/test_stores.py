"""The workspace's stores on the azureml-v2 backend, through the user API: environments, model
deletion, compute targets and datastores listed, run filters, interactive runs, cancel reasons."""

import textwrap
import time

import pytest
from azure.ai.ml.entities import Environment as SdkEnvironment

from amlocal.core import Environment, Experiment, Model, ScriptRunConfig
from amlocal.exceptions import EnvironmentNotFoundError, ModelNotFoundError
from amlocal_azureml_v2 import translate


def test_environments_register_in_versions_and_read_back(ws):
    env = Environment("train-env")
    env.python.conda_dependencies.add_pip_package("scikit-learn==1.5.2")
    env.python.conda_dependencies.set_python_version("3.10")
    assert env.register(ws).version == "1"
    env.python.conda_dependencies.add_pip_package("joblib")
    assert env.register(ws).version == "2"

    received = ws.backend.adapter.environments  # what Azure was given: the user's definition
    assert received.get("train-env", "1").pip_packages == ("scikit-learn==1.5.2",)
    latest = Environment.get(ws, "train-env")
    assert latest.version == "2"
    assert latest.python.conda_dependencies.pip_packages == ["scikit-learn==1.5.2", "joblib"]
    assert latest.python.conda_dependencies.get_python_version() == "3.10"
    assert Environment.get(ws, "train-env", version="1").python.conda_dependencies.pip_packages == [
        "scikit-learn==1.5.2"]
    with pytest.raises(EnvironmentNotFoundError, match="train-env"):
        Environment.get(ws, "train-env", version="7")


def test_curated_environments_are_azures_own(ws, project):
    curated = Environment.get(ws, "AzureML-sklearn-1.5")
    assert curated.name == "AzureML-sklearn-1.5"
    listed = Environment.list(ws)
    assert "AzureML-sklearn-1.5" in listed
    with pytest.raises(EnvironmentNotFoundError):
        Environment.get(ws, "AzureML-no-such-environment")
    # a run on it names it instead of rebuilding it
    (project / "scripts").mkdir()
    (project / "scripts" / "noop.py").write_text("print('ok')\n")
    Experiment(ws, "curated").submit(ScriptRunConfig(source_directory="scripts", script="noop.py",
                                                     environment=curated))
    submitted = ws.backend.adapter.submissions[-1].environment
    assert submitted == "azureml:AzureML-sklearn-1.5@latest" and not isinstance(submitted, SdkEnvironment)


def test_a_deleted_model_version_is_gone_and_its_number_not_reused(ws, project):
    weights = project / "weights.bin"
    weights.write_text("w")
    for _ in range(2):
        Model.register(ws, model_path=str(weights), model_name="m")
    Model(ws, "m", version=2).delete()
    assert [m.version for m in Model.list(ws, name="m")] == [1]
    assert Model(ws, "m").version == 1
    with pytest.raises(ModelNotFoundError, match="no version 2"):
        Model(ws, "m", version=2)
    assert Model.register(ws, model_path=str(weights), model_name="m").version == 3


def test_tag_and_property_values_reach_azure_as_strings(ws, project):
    """As the other backends store them (``amlocal.rules.models.string_tags``), except that SDK v2
    drops a None value with its key, so a tag without a value is sent as "" and a filter by its
    key still finds it."""
    weights = project / "weights.bin"
    weights.write_text("w")
    model = Model.register(ws, model_path=str(weights), model_name="m",
                           tags={"accuracy": 0.97, "candidate": None, 7: True}, properties={"epochs": 3})
    expected_tags = {"accuracy": "0.97", "candidate": "", "7": "True"}
    assert (model.tags, model.properties) == (expected_tags, {"epochs": "3"})
    assert Model(ws, "m").tags == expected_tags
    assert [m.version for m in Model.list(ws, tags=["candidate"])] == [1]
    assert [m.version for m in Model.list(ws, tags=[["accuracy", "0.97"]])] == [1]
    on_the_wire = translate.to_model("m", str(weights), tags={"candidate": None})._to_rest_object()
    assert on_the_wire.properties.tags == {"candidate": ""}  # what azure-ai-ml itself would send


def test_compute_targets_and_datastores_are_listed(ws):
    ws.backend.adapter.add_cluster("gpu-cluster", vm_size="STANDARD_NC6", max_nodes=2)
    assert sorted(ws.compute_targets) == ["amlocal-cpu", "gpu-cluster"]
    assert ws.compute_targets["gpu-cluster"].vm_size == "STANDARD_NC6"
    ws.backend.adapter.add_datastore("training_data")
    assert {"workspaceblobstore", "workspacefilestore", "training_data"} <= set(ws.datastores)


def stdlib_config(project, name, body):
    folder = project / "scripts"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(body))
    return ScriptRunConfig(source_directory=str(folder), script=name, environment=Environment("stdlib"))


def test_runs_filtered_by_tags(ws, project):
    exp = Experiment(ws, "filtered")
    config = stdlib_config(project, "noop.py", "print('ok')\n")
    tagged = exp.submit(config, tags={"stage": "dev"})
    other = exp.submit(config, tags={"stage": "prod"})
    for run in (tagged, other):
        run.wait_for_completion()
    assert [r.id for r in exp.get_runs(tags={"stage": "dev"})] == [tagged.id]
    assert {r.id for r in exp.get_runs(tags="stage")} == {tagged.id, other.id}
    assert list(tagged.get_children()) == []


def test_an_interactive_run_ends_once(ws):
    run = Experiment(ws, "interactive").start_logging()
    run.log("loss", 0.5)
    run.fail(error_details=RuntimeError("diverged"))
    assert run.get_status() == "Failed"
    run.complete()  # already ended: the first end stands
    assert run.get_status() == "Failed"


def test_a_cancel_reason_is_the_canceled_runs_error(ws, project):
    config = stdlib_config(project, "sleeper.py", """
        import time
        time.sleep(300)
        """)
    run = Experiment(ws, "early-termination").submit(config)
    deadline = time.monotonic() + 60
    while run.get_status() != "Running":
        assert time.monotonic() < deadline, f"never reached Running: {run.get_status()}"
        time.sleep(0.02)
    ws.backend.cancel(run.id, reason="Canceled by the early termination policy (bandit)")
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Canceled"
    assert details["error"]["message"] == "Canceled by the early termination policy (bandit)"
