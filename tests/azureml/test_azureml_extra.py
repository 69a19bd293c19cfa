"""The ``azure`` extra: what it installs is what the azureml backend and its HyperDrive
translation import."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def azure_extra():
    line = re.search(r"^azure = \[(.*)\]$", (REPO / "pyproject.toml").read_text(), re.M).group(1)
    return [re.split(r"[<>=!~ ;\[]", requirement, 1)[0] for requirement in re.findall(r'"([^"]+)"', line)]


def test_the_extra_installs_azureml_core_and_azureml_train_core():
    assert azure_extra() == ["azureml-core", "azureml-train-core"]


def test_azureml_train_core_provides_the_hyperdrive_api_the_translation_uses():
    from azureml.train.hyperdrive import (BanditPolicy, HyperDriveConfig, PrimaryMetricGoal,
                                          RandomParameterSampling, choice)

    sampling = RandomParameterSampling({"--penalty": choice(0.5, 1.0)})
    assert sampling.to_json()["parameter_space"]["--penalty"] == ["choice", [[0.5, 1.0]]]
    assert PrimaryMetricGoal.MAXIMIZE.value == "MAXIMIZE"
    assert BanditPolicy(slack_factor=0.1).to_json()["properties"]["slack_factor"] == 0.1
    assert HyperDriveConfig.__init__.__code__.co_varnames[:3] == ("self", "hyperparameter_sampling",
                                                                   "primary_metric_name")
