"""AciWebservice: the real SDK call on the azureml backend (asserted offline), the fake's local
run of it, LocalWebservice on the azureml backend, and ACI limits on a local backend."""

import json

import pytest

from amlocal.core import Model, Workspace
from amlocal.core.model import InferenceConfig
from amlocal.core.webservice import AciWebservice, LocalWebservice, Webservice, WebserviceException
from amlocal.serving import ModelMount, ServiceSpec
from amlocal.specs import EnvironmentSpec

from .conftest import free_port, service_containers, serving_environment, sklearn_version, unique_name

ROW = [[5.1, 3.5, 1.4, 0.2]]


def _spec(project):
    return ServiceSpec(name="iris-aci", entry_script="score.py", source_directory=str(project / "serving"),
                       environment=EnvironmentSpec(name="iris-serving", pip_packages=(
                           "scikit-learn==1.5.2", "joblib", "azureml-inference-server-http")),
                       models=(ModelMount("sklearn-iris", 3, "/x/model.joblib"),), compute_type="ACI",
                       cpu_cores=1, memory_gb=1.5, description="iris",
                       deployment_options={"auth_enabled": True, "cpu_cores": 1, "memory_gb": 1.5})


def test_aci_deploy_translates_to_the_sdks_inference_config_and_aci_configuration(project):
    pytest.importorskip("azureml.core")
    from azureml.core.model import InferenceConfig as SdkInferenceConfig
    from azureml.core.webservice.aci import AciServiceDeploymentConfiguration as SdkAciConfiguration

    from amlocal_azureml import translate

    (project / "serving").mkdir()
    (project / "serving" / "score.py").write_text("def init():\n    pass\n\ndef run(data):\n    return data\n")
    arguments = translate.to_deploy_arguments(_spec(project))
    inference = arguments["inference_config"]
    assert isinstance(inference, SdkInferenceConfig)
    assert inference.entry_script == "score.py"
    assert inference.source_directory == str(project / "serving")
    pip = list(inference.environment.python.conda_dependencies.pip_packages)
    assert "scikit-learn==1.5.2" in pip and "joblib" in pip and any(p.startswith("azureml-defaults") for p in pip)
    assert not any(p.startswith("azureml-inference-server-http") for p in pip), "azureml-defaults brings it on Azure"
    config = arguments["deployment_config"]
    assert isinstance(config, SdkAciConfiguration)
    assert (config.cpu_cores, config.memory_gb, config.auth_enabled) == (1, 1.5, True)


def test_the_sdk_adapter_calls_model_deploy_with_them(project, monkeypatch):
    pytest.importorskip("azureml.core")
    from amlocal_azureml import sdk_adapter, translate

    (project / "serving").mkdir()
    (project / "serving" / "score.py").write_text("def init():\n    pass\n\ndef run(data):\n    return data\n")
    calls = []

    class RecordingModel:
        def __init__(self, workspace, id=None, **kwargs):
            self.workspace, self.id = workspace, id

        @staticmethod
        def deploy(workspace, name, models, inference_config=None, deployment_config=None, deployment_target=None,
                   overwrite=False, show_output=False):
            calls.append((workspace, name, [m.id for m in models], inference_config, deployment_config, overwrite))

            class Deployed:
                state, error, scoring_uri = "Transitioning", None, None
                created_time = updated_time = None
            Deployed.name = name
            return Deployed()

    monkeypatch.setattr(sdk_adapter, "Model", RecordingModel)
    workspace = translate.offline_workspace("sub", "rg", "ws")
    adapter = sdk_adapter.SdkAzureAdapter(workspace)
    spec = _spec(project)
    arguments = translate.to_deploy_arguments(spec)
    record = adapter.deploy_service("iris-aci", ["sklearn-iris:3"], arguments["inference_config"],
                                    arguments["deployment_config"], local_spec=spec)
    assert calls == [(workspace, "iris-aci", ["sklearn-iris:3"], arguments["inference_config"],
                      arguments["deployment_config"], True)]
    assert record["state"] == "Transitioning" and record["spec"]["name"] == "iris-aci"


@pytest.mark.docker
def test_the_fake_runs_an_aci_deployment_here_and_local_services_use_the_downloaded_model(
        serving_project, iris_model_files):
    pytest.importorskip("azureml.core")
    from amlocal_azureml.fake import mock_azureml

    with mock_azureml() as fake:
        ws = Workspace.from_config(backend="azureml")
        model = Model.register(ws, str(iris_model_files[0]), "sklearn-iris", model_framework="ScikitLearn",
                               model_framework_version=sklearn_version())
        config = InferenceConfig(entry_script="score.py", source_directory="./serving",
                                 environment=serving_environment())
        name = unique_name("aci")
        service = Model.deploy(ws, name, [model], config, AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1))
        try:
            assert isinstance(service, AciWebservice)
            service.wait_for_deployment()
            assert service.state == "Healthy"
            assert service.run(json.dumps({"data": ROW}))["predictions"] == [0]
            sent = fake.deployed_services[-1]
            assert sent["model_ids"] == ["sklearn-iris:1"]
            assert type(sent["deployment_config"]).__name__ == "AciServiceDeploymentConfiguration"
            assert sent["deployment_config"].cpu_cores == 1
            assert isinstance(Webservice(ws, name), AciWebservice)
            with pytest.raises(WebserviceException, match="already a service"):
                Model.deploy(ws, name, [model], config, AciWebservice.deploy_configuration())
        finally:
            service.delete()
        assert fake.get_service(name) is None

        local_name = unique_name("local")
        local = Model.deploy(ws, local_name, [model], config, LocalWebservice.deploy_configuration(port=free_port()))
        try:
            local.wait_for_deployment()
            assert local.run({"data": ROW})["model_dir"] == "/var/azureml-app/azureml-models/sklearn-iris/1"
            mount = local._record.spec.models[0]
            assert "azureml-models" in mount.path, "the model was downloaded from the workspace, as v1 does"
        finally:
            local.delete()


@pytest.mark.docker
def test_aci_on_a_local_backend_runs_here_with_its_limits(serving_project):
    ws, (model, _) = serving_project
    config = InferenceConfig(entry_script="score.py", source_directory="./serving", environment=serving_environment())
    name = unique_name("limits")
    service = Model.deploy(ws, name, [model], config, AciWebservice.deploy_configuration(cpu_cores=0.5, memory_gb=1))
    assert isinstance(service, AciWebservice) and service.compute_type == "ACI"
    service.wait_for_deployment()
    assert service.state == "Healthy"
    assert service.run({"data": ROW})["predictions"] == [0]
    from amlocal_docker import engine

    host = engine.connect_api().inspect_container(service_containers(name)[0])["HostConfig"]
    assert (host["NanoCpus"], host["Memory"]) == (500_000_000, 1024 ** 3)
