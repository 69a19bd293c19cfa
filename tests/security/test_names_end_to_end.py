"""Threat: names and paths a user (or a config file) gives that climb out of their directory:
datastore, datastore path, path on compute, compute target, workspace, model, environment
and experiment names.

Each is refused with InvalidArgumentError (ComputeTargetException for compute targets, as
azureml raises) before any path is built from it, and nothing appears outside the
workspace's directory.
"""

import json

import pytest

from amlocal.core import Datastore, Environment, Experiment, Model, Workspace
from amlocal.core.compute import AmlCompute, ComputeTarget
from amlocal.core.compute_target import ComputeTargetException
from amlocal.exceptions import InvalidArgumentError

from job_helpers import files_under, job_config

ESCAPES = ("x", "cx", "etc", "m", "e", "ws")


@pytest.fixture
def ws(project):
    return Workspace.from_config(backend="process")


@pytest.fixture
def watched(tmp_path, project, ws):
    """Fails the test when a refused call created anything outside the workspace's directory,
    or anything named like the escape targets anywhere."""
    ws.get_default_datastore()  # the workspace's own directory may appear
    ws.run_history.list_runs()
    (project / "data" / "iris").mkdir(parents=True, exist_ok=True)
    before = files_under(tmp_path)
    yield
    workspace = ws.stores.layout.root.relative_to(tmp_path).as_posix()
    created = {p for p in files_under(tmp_path) - before if not p.startswith(workspace + "/")}
    assert not {p for p in created if not p.startswith("project/")}, created
    named = {p for p in files_under(tmp_path) if p.rsplit("/", 1)[-1] in ESCAPES}
    assert not named, named
    assert ws.run_history.list_runs() == []


def refused(error_type, call):
    with pytest.raises(error_type) as raised:
        call()
    return str(raised.value)


def test_datastore_names_and_paths_that_climb_out_are_refused(ws, project, watched):
    message = refused(InvalidArgumentError, lambda: Datastore(ws, "../../x").upload(
        src_dir=str(project / "data"), target_path="x", overwrite=True, show_progress=False))
    assert "../../x" in message and "datastore" in message
    ds = ws.get_default_datastore()
    refused(InvalidArgumentError, lambda: ds.upload(src_dir=str(project / "data"), target_path="../../x",
                                                    overwrite=True, show_progress=False))
    for argument in (ds.path("../../../etc").as_mount(), ds.path("../../../etc").as_download(),
                     ds.path("iris").as_download(path_on_compute="../../x"),
                     ds.path("iris").as_download(path_on_compute="/tmp/x")):
        config = job_config(project, "job.py", "print(1)\n", arguments=["--data", argument])
        message = refused(InvalidArgumentError, lambda: Experiment(ws, "names").submit(config))
        assert "path_on" in message or "datastore path" in message, message


def test_compute_target_names_that_climb_out_are_refused_as_azureml_does(ws, project, watched):
    provisioning = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=1)
    for name in ("a/../../cx", "../cx", "cx/..", "c\x00x"):
        message = refused(ComputeTargetException, lambda: ComputeTarget.create(ws, name, provisioning))
        assert "compute target name" in message
        refused(ComputeTargetException, lambda: ComputeTarget(workspace=ws, name=name))
    config = job_config(project, "job.py", "print(1)\n", compute_target="a/../../cx")
    refused(ComputeTargetException, lambda: Experiment(ws, "names").submit(config))


def test_model_environment_and_experiment_names_that_climb_out_are_refused(ws, project, watched):
    model_file = project / "data" / "model.pkl"
    model_file.write_text("weights")
    for name in ("../../m", "a/../../m", "/tmp/m", ".."):
        refused(InvalidArgumentError, lambda: Model.register(ws, model_path=str(model_file), model_name=name))
        refused(InvalidArgumentError, lambda: Environment(name).register(ws))
        refused(InvalidArgumentError, lambda: Environment.get(ws, name))
        refused(InvalidArgumentError, lambda: Experiment(ws, name))
    model_file.unlink()


def test_a_workspace_name_that_climbs_out_is_refused_before_any_directory_exists(project, tmp_path):
    (project / "config.json").write_text(json.dumps(
        {"subscription_id": "s", "resource_group": "r", "workspace_name": "../../ws"}))
    before = files_under(tmp_path)
    with pytest.raises(InvalidArgumentError) as raised:
        ws = Workspace.from_config(backend="process")
        Experiment(ws, "names").submit(job_config(project, "job.py", "print(1)\n"))
    assert "workspace" in str(raised.value) and "../../ws" in str(raised.value)
    created = files_under(tmp_path) - before
    assert {p for p in created if not p.startswith("project/")} == set()
    assert not (tmp_path / "ws").exists() and not (tmp_path.parent / "ws").exists()
