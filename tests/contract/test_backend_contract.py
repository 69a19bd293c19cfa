"""Every built-in backend passes the contract suite shipped in ``amlocal.testing`` (opting in
exactly as a third-party backend would), plus the article's own flow with its iris estimator."""

import time

import pytest

from amlocal.core import Environment, Experiment, Model, ScriptRunConfig, Workspace
from amlocal.core.compute import AmlCompute, ComputeTarget
from amlocal.core.compute_target import ComputeTargetException
from amlocal.rules.statuses import AMLCOMPUTE_ORDER, ORDER
from amlocal.testing import BackendContract, LocalBackendContract
from amlocal.train.sklearn import SKLearn
from azure_workspaces import azureml_fake_workspace, azureml_v2_fake_workspace

def cluster(ws, name="cpu-cluster", max_nodes=4):
    try:
        return ComputeTarget(workspace=ws, name=name)
    except ComputeTargetException:
        config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=max_nodes)
        target = ComputeTarget.create(ws, name, config)
        target.wait_for_completion(show_output=False)
        return target


def iris_estimator(ws, **params):
    script_params = {"--kernel": "linear", "--penalty": 1.0, **params}
    return SKLearn(source_directory="./sklearn-iris", entry_script="train_iris.py", script_params=script_params,
                   compute_target=cluster(ws), pip_packages=["joblib"])


def stdlib_script(project, name, body):
    """A training script needing no packages (so no image build): ./scripts/<name>."""
    folder = project / "scripts"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(body))
    return ScriptRunConfig(source_directory=str(folder), script=name, environment=Environment("stdlib"))


def follow_statuses(run, timeout=600):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = run.get_status()
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in ("Completed", "Failed", "Canceled"):
            return seen
        time.sleep(0.02)
    raise AssertionError(f"run {run.id} did not end in {timeout} s; statuses seen: {seen}")


#: The orders Azure ML documents for a run's statuses before a final one: SDK v1 runs
#: (``azureml.core.Run``), and SDK v2 jobs (the REST ``JobStatus``, where jobs start and prepare
#: before they queue for nodes). A backend declares the one of the service it stands for.
DOCUMENTED_ORDERS = {
    "local runs": ORDER,
    "Azure ML runs on AmlCompute (Run.get_status)": AMLCOMPUTE_ORDER,
    "Azure ML SDK v2": ("NotStarted", "Starting", "Provisioning", "Preparing", "Queued", "Running", "Finalizing"),
}


def in_documented_order(seen, order):
    """``seen`` (each status once, as it changed) follows ``order`` (then a final status), skipping
    allowed; a status ``order`` does not have breaks it."""
    return seen[:-1] == [s for s in order if s in seen[:-1]]


def test_status_order_check():
    order = ("NotStarted", "Queued", "Preparing", "Starting", "Running", "Finalizing")
    assert in_documented_order(["NotStarted", "Queued", "Running", "Completed"], order)
    assert not in_documented_order(["NotStarted", "Running", "Queued", "Completed"], order)
    assert not in_documented_order(["NotStarted", "Paused", "Running", "Completed"], order)


def test_article_flow_trains_and_registers_versions(ws):
    exp = Experiment(workspace=ws, name="sklearn-iris")
    run = exp.submit(iris_estimator(ws))
    seen = follow_statuses(run)
    assert seen[-1] == "Completed", run.get_details().get("error")
    # each backend declares the order of the service it stands for
    order = tuple(ws.backend.status_order)
    assert order in DOCUMENTED_ORDERS.values(), f"{ws.backend.name} declares an order Azure ML does not: {order}"
    assert in_documented_order(seen, order), f"statuses out of the {ws.backend.name} backend's order {order}: {seen}"

    metrics = run.get_metrics()
    assert {"Kernel type", "Penalty", "Accuracy"} <= set(metrics)
    assert metrics["Kernel type"] == "linear" and metrics["Penalty"] == 1.0
    assert 0.9 < metrics["Accuracy"] <= 1.0
    assert "outputs/model.joblib" in run.get_file_names()

    model = run.register_model(model_name="sklearn-iris", model_path="outputs/model.joblib")
    assert (model.name, model.version, model.run_id) == ("sklearn-iris", 1, run.id)

    second = exp.submit(iris_estimator(ws, **{"--penalty": 0.5}))
    second.wait_for_completion()
    assert second.get_metrics()["Penalty"] == 0.5
    assert second.register_model(model_name="sklearn-iris", model_path="outputs/model.joblib").version == 2
    assert [m.version for m in Model.list(ws, name="sklearn-iris")] == [2, 1]
    assert Model(ws, "sklearn-iris").version == 2


# -- the shipped contract, opted into as a plugin would --------------------------------------------

class TestDockerBackendContract(LocalBackendContract):
    @pytest.fixture
    def workspace(self, amlocal_project, base_image):
        return Workspace.from_config(backend="docker")


class TestProcessBackendContract(LocalBackendContract):
    @pytest.fixture
    def workspace(self, amlocal_project):
        return Workspace.from_config(backend="process")


class TestAzureMLFakeContract(BackendContract):
    @pytest.fixture
    def workspace(self, amlocal_project, tmp_path):
        return azureml_fake_workspace(tmp_path, amlocal_project)


@pytest.mark.filterwarnings("ignore::marshmallow.warnings.ChangedInMarshmallow4Warning",
                            "ignore::marshmallow.warnings.RemovedInMarshmallow4Warning")
class TestAzureMLV2FakeContract(BackendContract):
    @pytest.fixture
    def workspace(self, amlocal_project, tmp_path):
        return azureml_v2_fake_workspace(tmp_path, amlocal_project)
