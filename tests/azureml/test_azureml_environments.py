"""Environments of a workspace on the azureml backend are the workspace's own: registering and
getting go to Azure ML (its fake here), never to the local home; curated names pass through."""

import os

import pytest

from amlocal.core import Environment, Experiment, ScriptRunConfig
from amlocal.exceptions import EnvironmentNotFoundError


def test_register_and_get_go_to_the_workspace_not_the_local_home(ws, fake, tmp_path):
    env = Environment("team-env")
    env.python.conda_dependencies.add_pip_package("joblib")

    env.register(ws)
    env.register(ws)

    assert env.version == "2"
    assert len(fake.environments["team-env"]) == 2
    assert all("joblib" in spec.pip_packages for spec in fake.environments["team-env"])
    again = Environment.get(ws, "team-env")
    assert again.version == "2" and "joblib" in again.python.conda_dependencies.pip_packages
    assert not any("environments" in dirs for _, dirs, _ in os.walk(tmp_path / "amlocal-home"))
    with pytest.raises(EnvironmentNotFoundError):
        Environment.get(ws, "team-env", version=3)


def test_a_curated_environment_is_submitted_by_name(ws, fake, project):
    env = Environment.get(ws, "AzureML-sklearn-1.5")
    assert env.name == "AzureML-sklearn-1.5"
    config = ScriptRunConfig(source_directory="src", script="train_iris.py", environment=env)
    Experiment(ws, "curated").submit(config)

    submitted = fake.submissions[-1][1]
    assert submitted.run_config.environment.name == "AzureML-sklearn-1.5"
