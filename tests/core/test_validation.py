"""Bad input fails early, with the error type azureml users catch and a message saying what to do."""

import pytest

from amlocal.core import Experiment, Model, ScriptRunConfig
from amlocal.core.compute import AmlCompute, ComputeTarget
from amlocal.core.compute_target import ComputeTargetException
from amlocal.exceptions import (InvalidArgumentError, InvalidModelNameError, ModelNotFoundError,
                                ModelPathNotFoundException)
from amlocal.train.sklearn import SKLearn


@pytest.fixture
def source(project):
    directory = project / "src"
    directory.mkdir()
    (directory / "train.py").write_text("print('train')\n")
    (directory / "score.py").write_text("print('score')\n")
    (directory / "notes.txt").write_text("not python\n")
    return directory


# -- submit-time checks --------------------------------------------------------------------

def test_missing_source_directory(exp, project):
    config = ScriptRunConfig(source_directory="does-not-exist", script="train.py")

    with pytest.raises(InvalidArgumentError) as caught:
        exp.submit(config)

    assert "'does-not-exist'" in str(caught.value) and "does not exist" in str(caught.value)
    assert str(project) in str(caught.value)
    assert list(exp.get_runs()) == []


@pytest.mark.parametrize("make_config", [
    lambda src: ScriptRunConfig(source_directory=str(src), script="trian.py"),
    lambda src: SKLearn(source_directory=str(src), entry_script="trian.py"),
], ids=["ScriptRunConfig", "SKLearn"])
def test_missing_entry_script_lists_python_files(exp, source, make_config):
    with pytest.raises(InvalidArgumentError) as caught:
        exp.submit(make_config(source))

    message = str(caught.value)
    assert "'trian.py'" in message
    assert "score.py, train.py" in message
    assert "notes.txt" not in message
    assert list(exp.get_runs()) == []


def test_missing_entry_script_in_a_directory_without_python_files(exp, project):
    (project / "empty").mkdir()

    with pytest.raises(InvalidArgumentError, match=r"\(none\)"):
        exp.submit(ScriptRunConfig(source_directory="empty", script="train.py"))


def test_submit_of_something_that_is_not_a_run_config(exp):
    with pytest.raises(InvalidArgumentError, match="ScriptRunConfig"):
        exp.submit({"script": "train.py"})


# -- construction-time checks --------------------------------------------------------------

@pytest.mark.parametrize("script_params", [["--kernel", "linear"], "--kernel linear"])
def test_script_params_must_be_a_dict(source, script_params):
    with pytest.raises(InvalidArgumentError, match="script_params must be a dict"):
        SKLearn(source_directory=str(source), entry_script="train.py", script_params=script_params)


def test_script_params_value_that_is_a_list(source):
    with pytest.raises(InvalidArgumentError) as caught:
        SKLearn(source_directory=str(source), entry_script="train.py", script_params={"--layers": [1, 2]})

    assert "'--layers'" in str(caught.value) and "list" in str(caught.value)


def test_script_params_become_arguments(source):
    estimator = SKLearn(source_directory=str(source), entry_script="train.py",
                        script_params={"--kernel": "linear", "--penalty": 1.0, "--verbose": None})

    assert estimator.arguments == ["--kernel", "linear", "--penalty", 1.0, "--verbose"]


def test_sklearn_needs_an_entry_script(source):
    with pytest.raises(InvalidArgumentError, match="entry_script"):
        SKLearn(source_directory=str(source))


@pytest.mark.parametrize("arguments", ["--alpha 0.1", {"--alpha": 0.1}, 3])
def test_script_run_config_arguments_must_be_a_list(source, arguments):
    with pytest.raises(InvalidArgumentError, match="arguments must be a list"):
        ScriptRunConfig(source_directory=str(source), script="train.py", arguments=arguments)


def test_script_run_config_argument_of_a_wrong_type(source):
    with pytest.raises(InvalidArgumentError, match=r"\{'a': 1\}"):
        ScriptRunConfig(source_directory=str(source), script="train.py", arguments=["--x", {"a": 1}])


# -- compute targets -----------------------------------------------------------------------

def test_max_nodes_is_mandatory():
    with pytest.raises(ComputeTargetException, match="max nodes count is mandatory"):
        AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2")


@pytest.mark.parametrize("max_nodes", [0, -1, 1.5, True, "2"])
def test_max_nodes_must_be_a_positive_integer(max_nodes):
    with pytest.raises(ComputeTargetException) as caught:
        AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=max_nodes)

    assert repr(max_nodes) in str(caught.value) and ">= 1" in str(caught.value)


def test_min_nodes_above_max_nodes():
    with pytest.raises(ComputeTargetException, match="min_nodes"):
        AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", min_nodes=3, max_nodes=2)


def test_unknown_vm_size_lists_known_sizes(ws):
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_Z99_V9", max_nodes=2)

    with pytest.raises(ComputeTargetException) as caught:
        ComputeTarget.create(ws, "cpu-cluster", config)

    message = str(caught.value)
    assert "'STANDARD_Z99_V9'" in message
    assert "STANDARD_D2_V2" in message and "STANDARD_DS3_V2" in message
    with pytest.raises(ComputeTargetException):
        ComputeTarget(ws, "cpu-cluster")  # nothing was created


def test_created_compute_target_is_found_by_name(ws):
    config = AmlCompute.provisioning_configuration(vm_size="standard_d2_v2", max_nodes=2)
    ComputeTarget.create(ws, "cpu-cluster", config).wait_for_completion()

    found = ComputeTarget(ws, "cpu-cluster")

    assert isinstance(found, AmlCompute)
    assert (found.name, found.vm_size, found.max_nodes) == ("cpu-cluster", "STANDARD_D2_V2", 2)


def test_unknown_compute_target(ws):
    with pytest.raises(ComputeTargetException) as caught:
        ComputeTarget(ws, "nope")

    assert "nope" in str(caught.value) and "not found" in str(caught.value)


# -- names ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["", "-starts-with-dash", "has space", "a/b", "x" * 256, None])
def test_invalid_experiment_name(ws, name):
    with pytest.raises(InvalidArgumentError, match="Invalid experiment name"):
        Experiment(ws, name)


@pytest.mark.parametrize("name", ["exp", "Exp-1_b", "9lives", "x" * 255])
def test_valid_experiment_names(ws, name):
    assert Experiment(ws, name).name == name


@pytest.mark.parametrize("name", ["-bad", "a" * 256, "has space", "_underscore", "slash/name", ""])
def test_invalid_model_name(ws, project, workspace_dir, name):
    model = project / "model.pkl"
    model.write_bytes(b"model")

    with pytest.raises(InvalidModelNameError) as caught:
        Model.register(ws, str(model), name)

    assert "start with a letter or number, and be between 1 and 255 characters long" in str(caught.value)
    assert Model.list(ws) == []
    assert not (workspace_dir / "models").exists()


@pytest.mark.parametrize("name", ["m", "a" * 255, "model.v2_final-1", "0day"])
def test_valid_model_names(ws, project, name):
    model = project / "model.pkl"
    model.write_bytes(b"model")

    assert Model.register(ws, str(model), name).name == name


def test_invalid_model_name_from_a_run(run, project):
    (project / "m.txt").write_text("model")
    run.upload_file("outputs/m.txt", str(project / "m.txt"))

    with pytest.raises(InvalidModelNameError):
        run.register_model("has space", "outputs/m.txt")


def test_unknown_model_version_lists_existing_versions(ws, project):
    (project / "m.txt").write_text("model")
    for _ in range(2):
        Model.register(ws, str(project / "m.txt"), "x")

    with pytest.raises(ModelNotFoundError) as caught:
        Model(ws, "x", version=99)

    assert "version 99" in str(caught.value) and "1, 2" in str(caught.value)


def test_unknown_model_name(ws):
    with pytest.raises(ModelNotFoundError, match="'never-registered'"):
        Model(ws, "never-registered")


def test_model_path_not_in_the_run_lists_the_run_files(run, project):
    (project / "m.txt").write_text("model")
    run.upload_file("outputs/m.txt", str(project / "m.txt"))
    run.complete()

    with pytest.raises(ModelPathNotFoundException) as caught:
        run.register_model("m", "outputs/nope")

    message = str(caught.value)
    assert "'outputs/nope'" in message and "outputs/m.txt" in message and run.id in message


def test_register_of_a_missing_local_path(ws, project):
    with pytest.raises(ModelPathNotFoundException, match="no-such-model.pkl"):
        Model.register(ws, str(project / "no-such-model.pkl"), "m")
