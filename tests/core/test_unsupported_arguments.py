"""Arguments amlocal cannot honour raise an error naming them, instead of being silently ignored;
those it can honour work."""

import pytest

from amlocal.core import Datastore, Environment, ScriptRunConfig
from amlocal.exceptions import InvalidArgumentError
from amlocal.train.sklearn import SKLearn


@pytest.mark.parametrize("argument, value", [("vm_size", "STANDARD_D2_V2"), ("vm_priority", "lowpriority"),
                                             ("use_docker", False), ("resume_from", "x"),
                                             ("image_registry_details", object())])
def test_sklearn_refuses_what_it_cannot_honour_naming_it(project, argument, value):
    with pytest.raises(InvalidArgumentError) as raised:
        SKLearn("sklearn-iris", entry_script="train_iris.py", **{argument: value})
    assert argument.split("_")[0] in str(raised.value)


def test_sklearn_inputs_must_be_among_the_script_params(ws, project):
    data = Datastore(ws).path("iris").as_mount()
    SKLearn("sklearn-iris", entry_script="train_iris.py", script_params={"--data-folder": data}, inputs=[data])
    with pytest.raises(InvalidArgumentError) as raised:
        SKLearn("sklearn-iris", entry_script="train_iris.py", inputs=[Datastore(ws).path("other").as_mount()])
    assert "inputs=" in str(raised.value)


def test_user_managed_sklearn_environment_is_user_managed(project):
    estimator = SKLearn("sklearn-iris", entry_script="train_iris.py", user_managed=True)
    assert estimator.environment.python.user_managed_dependencies is True


def test_script_run_config_command_runs_a_python_script(project):
    (project / "sklearn-iris").mkdir()
    (project / "sklearn-iris" / "train_iris.py").write_text("print(1)\n")
    config = ScriptRunConfig(source_directory="sklearn-iris", command=["python", "train_iris.py", "--kernel", "rbf"],
                             environment=Environment("e"))
    spec = config._run_spec("exp")
    assert (spec.script, spec.arguments) == ("train_iris.py", ("--kernel", "rbf"))
    assert ScriptRunConfig(source_directory="sklearn-iris", command="python train_iris.py --penalty 2").script \
        == "train_iris.py"


def test_script_run_config_command_that_is_not_a_python_script_is_refused(project):
    with pytest.raises(InvalidArgumentError) as raised:
        ScriptRunConfig(source_directory="sklearn-iris", command=["bash", "train.sh"])
    assert "command=" in str(raised.value)
    with pytest.raises(InvalidArgumentError):
        ScriptRunConfig(source_directory="sklearn-iris", script="train_iris.py", command=["python", "x.py"])
