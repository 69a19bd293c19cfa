"""The backend contract: the same user flow, run on every backend. Each backend opts in by
giving a workspace here (docker and process on this machine; azureml and azureml-v2 through
their fake adapters, or a real workspace in live mode)."""

import pytest

from amlocal.core import Workspace
from azure_workspaces import azureml_fake_workspace, azureml_v2_fake_workspace

#: azure-ai-ml's own deprecation chatter with the marshmallow it resolves with, not ours
AZURE_AI_ML_NOISE = [pytest.mark.filterwarnings("ignore::marshmallow.warnings.ChangedInMarshmallow4Warning"),
                     pytest.mark.filterwarnings("ignore::marshmallow.warnings.RemovedInMarshmallow4Warning")]
BACKENDS = ["docker", "process", "azureml", pytest.param("azureml-v2", marks=AZURE_AI_ML_NOISE)]


@pytest.fixture(params=BACKENDS)
def ws(request, project, tmp_path):
    name = request.param
    if name == "docker":
        request.getfixturevalue("base_image")
        return Workspace.from_config(backend="docker")
    if name == "process":
        return Workspace.from_config(backend="process")
    if name == "azureml-v2":
        return azureml_v2_fake_workspace(tmp_path, project)
    return azureml_fake_workspace(tmp_path, project)
