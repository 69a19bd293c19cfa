"""amlocal's plain specs -> the real azure-ai-ml entities, built offline and checked against their
own REST serialisation (``_to_rest_object()``), the body the SDK sends the service."""

import pytest
from azure.ai.ml import Input
from azure.ai.ml.entities import AmlCompute as SdkAmlCompute
from azure.ai.ml.entities import Command, Environment, Model

from amlocal.core import Datastore, Workspace
from amlocal.core import Environment as AmlocalEnvironment
from amlocal.core.compute import AmlCompute
from amlocal.core.compute_target import ComputeTargetException
from amlocal.exceptions import InvalidArgumentError, PathOutsideRootError
from amlocal.specs import DataPathSpec, EnvironmentSpec, RunSpec
from amlocal.train.sklearn import DEFAULT_FRAMEWORK_VERSION, SKLearn
from amlocal_azureml_v2 import translate

SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
PREFIX = 'PYTHONPATH="$PWD/_amlocal_shim${PYTHONPATH:+:$PYTHONPATH}" '


def rest_properties(job):
    return job._to_job()._to_rest_object().as_dict()["properties"]


def rest_environment(environment):
    return environment._to_rest_object().as_dict()["properties"]


def spec(arguments=(), environment=None, **fields):
    return RunSpec(experiment="exp", source_directory="/src", script="train.py", arguments=tuple(arguments),
                   environment=environment or EnvironmentSpec(name="env"), **fields)


def test_a_run_becomes_a_command_job(tmp_path):
    run = spec(["--kernel", "linear", "--name", "two words", "--dollar", "$HOME"],
               EnvironmentSpec(name="env", environment_variables={"OMP_NUM_THREADS": "2"}),
               compute_target="cpu", tags={"team": "ml"}, properties={"origin": "amlocal"},
               max_run_duration_seconds=600)
    job = translate.to_command_job(run, "exp_1_ab", tmp_path, "cpu")
    assert isinstance(job, Command)
    properties = rest_properties(job)
    assert properties["command"] == PREFIX + "python train.py --kernel linear --name 'two words' --dollar '$HOME'"
    assert (properties["codeId"], properties["computeId"], properties["experimentName"], properties["displayName"]) \
        == (str(tmp_path), "cpu", "exp", "exp_1_ab")
    assert properties["environmentVariables"] == {"OMP_NUM_THREADS": "2", "AMLOCAL_RUN_SINK": "mlflow",
                                                  "AMLOCAL_RUN_ID": "exp_1_ab", "AMLOCAL_EXPERIMENT_NAME": "exp"}
    assert properties["limits"] == {"timeout": "PT10M", "jobLimitsType": "Command"}
    assert (properties["tags"], properties["properties"]) == ({"team": "ml"}, {"origin": "amlocal"})
    assert properties["inputs"] == {} and properties["jobType"] == "Command"
    assert job.name == "exp_1_ab"


def test_data_paths_become_inputs_bound_in_the_command(tmp_path):
    mounted = DataPathSpec("workspaceblobstore", "iris")
    downloaded = DataPathSpec("workspaceblobstore", "iris", mode="download")
    one_file = DataPathSpec("workspaceblobstore", "iris/iris.csv", mode="download")
    named = DataPathSpec("other", "", reference_name="my-data")
    run = spec(["--a", mounted, "--b", downloaded, "--c", one_file, "--d", named, "--again", mounted])
    properties = rest_properties(translate.to_command_job(run, "n", tmp_path, "cpu", file_inputs=[one_file]))
    assert properties["command"] == PREFIX + (
        "python train.py --a ${{inputs.workspaceblobstore}} --b ${{inputs.workspaceblobstore_2}} "
        "--c ${{inputs.workspaceblobstore_3}} --d ${{inputs.my_data}} --again ${{inputs.workspaceblobstore}}")
    assert properties["inputs"] == {
        "workspaceblobstore": {"uri": "azureml://datastores/workspaceblobstore/paths/iris", "mode": "ReadOnlyMount",
                               "jobInputType": "uri_folder"},
        "workspaceblobstore_2": {"uri": "azureml://datastores/workspaceblobstore/paths/iris", "mode": "Download",
                                 "jobInputType": "uri_folder"},
        "workspaceblobstore_3": {"uri": "azureml://datastores/workspaceblobstore/paths/iris/iris.csv",
                                 "mode": "Download", "jobInputType": "uri_file"},
        "my_data": {"uri": "azureml://datastores/other/paths/", "mode": "ReadOnlyMount",
                    "jobInputType": "uri_folder"}}


def test_what_sdk_v2_cannot_express_is_refused(tmp_path):
    with pytest.raises(InvalidArgumentError, match="path_on_compute='data'.*Drop path_on_compute"):
        translate.to_command_job(spec([DataPathSpec("ds", "x", mode="download", path_on_compute="data")]), "n",
                                 tmp_path, "cpu")
    with pytest.raises(InvalidArgumentError, match="binding of the job's inputs"):
        translate.to_command_job(spec(["${{inputs.secret}}"]), "n", tmp_path, "cpu")
    with pytest.raises(InvalidArgumentError, match="needs a compute target"):
        translate.to_command_job(spec(), "n", tmp_path, None)


def test_input_object():
    data_input = translate.to_input(DataPathSpec("workspaceblobstore", "./iris/", mode="download"))
    assert isinstance(data_input, Input)
    assert (data_input.type, data_input.path, data_input.mode) == (
        "uri_folder", "azureml://datastores/workspaceblobstore/paths/iris", "download")
    for hostile in ("/iris/", "../iris", "iris/\x00"):
        with pytest.raises(PathOutsideRootError, match="path_on_datastore"):
            translate.to_input(DataPathSpec("workspaceblobstore", hostile))


def test_environment_image_and_conda_file():
    env = translate.to_environment(EnvironmentSpec(
        name="my env", python_version="3.10", pip_packages=("scikit-learn==1.5.2", "joblib"),
        conda_packages=("libgomp",), pip_options=("--extra-index-url https://example.invalid/simple",),
        channels=("pytorch",), base_image="myregistry.azurecr.io/train:1"))
    assert isinstance(env, Environment)
    rest = rest_environment(env)
    assert rest["image"] == "myregistry.azurecr.io/train:1"
    assert rest["condaFile"] == (
        "channels:\n- pytorch\ndependencies:\n- python=3.10\n- pip\n- libgomp\n- pip:\n"
        "  - --extra-index-url https://example.invalid/simple\n  - scikit-learn==1.5.2\n  - joblib\n  - mlflow\n"
        "  - azureml-mlflow\nname: my-env\n")
    assert rest["isAnonymous"] is True


def test_a_pin_of_the_logging_packages_by_the_user_wins():
    conda = translate.conda_file(EnvironmentSpec(name="e", pip_packages=("mlflow-skinny==2.16.0",
                                                                         "azureml-mlflow==1.57.0")))
    assert conda["dependencies"][-1] == {"pip": ["mlflow-skinny==2.16.0", "azureml-mlflow==1.57.0"]}
    assert conda["channels"] == ["conda-forge"]


def test_curated_and_user_managed_environments():
    assert translate.to_environment(EnvironmentSpec(name="AzureML-sklearn-1.5", curated=True)) == \
        "azureml:AzureML-sklearn-1.5@latest"
    assert translate.to_environment(EnvironmentSpec(name="AzureML-sklearn-1.5", version="3", curated=True)) == \
        "azureml:AzureML-sklearn-1.5:3"
    own = translate.to_environment(EnvironmentSpec(name="mine", user_managed=True, base_image="me/img:1",
                                                   pip_packages=("numpy",)))
    assert rest_environment(own) == {"image": "me/img:1", "isAnonymous": True, "isArchived": False}


def test_the_cores_run_spec_becomes_the_job(project, tmp_path):
    """What the core hands the backend (an amlocal.specs.RunSpec it built itself) translates as it is."""
    ws = Workspace.from_config(backend="process")
    ds = Datastore(ws)
    estimator = SKLearn(source_directory="src", entry_script="train_iris.py", compute_target="cpu",
                        script_params={"--penalty": 0.5, "--data": ds.path("iris").as_download(),
                                       "--flag": True},
                        pip_packages=["joblib"], environment_variables={"A": "1"})
    plain = estimator._run_spec("sklearn-iris", tags={"t": 1})
    assert isinstance(plain, RunSpec)
    properties = rest_properties(translate.to_command_job(plain, "n", tmp_path, "cpu"))
    assert properties["command"] == PREFIX + ("python train_iris.py --penalty 0.5 --data "
                                              "${{inputs.workspaceblobstore}} --flag True")
    assert properties["inputs"]["workspaceblobstore"]["mode"] == "Download"
    assert properties["environmentVariables"]["A"] == "1" and properties["tags"] == {"t": "1"}
    pip = rest_environment(translate.to_environment(plain.environment))["condaFile"]
    assert f"scikit-learn=={DEFAULT_FRAMEWORK_VERSION}" in pip and "- joblib" in pip
    curated = AmlocalEnvironment.get(ws, "AzureML-sklearn-1.5")._spec()
    assert translate.to_environment(curated) == "azureml:AzureML-sklearn-1.5@latest"


def test_a_registered_environment_reads_back_as_it_was_given():
    spec = EnvironmentSpec(name="train-env", python_version="3.10", pip_packages=("scikit-learn==1.5.2",),
                           conda_packages=("libgomp",), pip_options=("--pre",), channels=("conda-forge",),
                           base_image="me/img:1")
    registered = translate.to_registered_environment(spec)
    assert (registered.name, registered.version) == ("train-env", None)  # the service numbers it
    assert "mlflow" not in str(registered.conda_file)  # the user's definition, not a job's
    assert translate.from_environment(registered) == spec
    managed = EnvironmentSpec(name="own", base_image="me/img:2", user_managed=True)
    assert translate.from_environment(translate.to_registered_environment(managed)) == managed


def provisioning(**overrides):
    values = dict(vm_size="STANDARD_DS3_V2", vm_priority="lowpriority", min_nodes=1, max_nodes=6,
                  idle_seconds_before_scaledown=600, admin_username="azureuser", admin_user_password=None,
                  admin_user_ssh_key="ssh-rsa AAAA", vnet_resourcegroup_name=None, vnet_name="vnet",
                  subnet_name="default", tags={"team": "ml"}, description="training",
                  remote_login_port_public_access="Disabled", identity_type="UserAssigned",
                  identity_id=["/subscriptions/x/resourceGroups/y/providers/Microsoft.ManagedIdentity/"
                               "userAssignedIdentities/z"], location="westeurope", enable_node_public_ip=False)
    values.update(overrides)
    return values


def compute_rest(config, resource_group="ws-rg"):
    compute = translate.to_aml_compute("cpu-cluster", config, SUBSCRIPTION)
    assert isinstance(compute, SdkAmlCompute)
    compute._set_full_subnet_name(SUBSCRIPTION, resource_group)  # what compute.begin_create_or_update does
    return compute._to_rest_object().as_dict()


def test_every_v1_provisioning_setting_reaches_the_cluster():
    rest = compute_rest(provisioning())
    properties = rest["properties"]["properties"]
    assert (properties["vmSize"], properties["vmPriority"]) == ("STANDARD_DS3_V2", "LowPriority")
    assert properties["scaleSettings"] == {"maxNodeCount": 6, "minNodeCount": 1, "nodeIdleTimeBeforeScaleDown": "PT10M"}
    assert properties["userAccountCredentials"] == {"adminUserName": "azureuser",
                                                    "adminUserSshPublicKey": "ssh-rsa AAAA"}
    assert properties["remoteLoginPortPublicAccess"] == "Disabled"
    assert properties["enableNodePublicIp"] is False
    assert properties["subnet"] == {"id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ws-rg/providers/"
                                          "Microsoft.Network/virtualNetworks/vnet/subnets/default"}
    assert rest["identity"] == {"type": "UserAssigned", "userAssignedIdentities": {
        "/subscriptions/x/resourceGroups/y/providers/Microsoft.ManagedIdentity/userAssignedIdentities/z": {}}}
    assert (rest["location"], rest["tags"], rest["properties"]["description"]) == (
        "westeurope", {"team": "ml"}, "training")


def test_a_vnet_in_another_resource_group_is_a_full_subnet_id():
    rest = compute_rest(provisioning(vnet_resourcegroup_name="net-rg", identity_type="SystemAssigned",
                                     identity_id=None))
    assert rest["properties"]["properties"]["subnet"] == {
        "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/net-rg/providers/Microsoft.Network/virtualNetworks/"
              "vnet/subnets/default"}
    assert rest["identity"] == {"type": "SystemAssigned"}


def test_the_defaults_of_provisioning_configuration():
    rest = compute_rest(AmlCompute.provisioning_configuration(max_nodes=4).to_dict())
    properties = rest["properties"]["properties"]
    assert (properties["vmSize"], properties["vmPriority"]) == ("STANDARD_D2_V2", "Dedicated")
    assert properties["scaleSettings"] == {"maxNodeCount": 4, "minNodeCount": 0, "nodeIdleTimeBeforeScaleDown": "PT30M"}
    assert properties["remoteLoginPortPublicAccess"] == "NotSpecified"
    assert properties["enableNodePublicIp"] is True and "subnet" not in properties and "identity" not in rest


@pytest.mark.parametrize("overrides, message", [
    ({"vm_priority": "spot"}, "vm_priority 'spot'"),
    ({"subnet_name": None}, "needs both vnet_name and subnet_name"),
    ({"identity_type": "UserAssigned", "identity_id": None}, "needs identity_id"),
    ({"identity_type": "Federated"}, "identity_type 'Federated'"),
    ({"admin_username": None}, "need admin_username too"),
    ({"remote_login_port_public_access": "Sometimes"}, "'Enabled', 'Disabled' or 'NotSpecified'"),
])
def test_settings_v2_cannot_take_are_refused(overrides, message):
    with pytest.raises(ComputeTargetException, match=message):
        translate.to_aml_compute("c", provisioning(**overrides), SUBSCRIPTION)


def test_model_from_a_job_file():
    model = translate.to_model("sklearn-iris", translate.job_artifact_uri("job_1", "/outputs/model.joblib"),
                               tags={"area": "iris"}, properties={"accuracy": 0.97}, description="svm",
                               model_framework="ScikitLearn", model_framework_version="1.5.2")
    assert isinstance(model, Model)
    rest = model._to_rest_object().as_dict()["properties"]
    assert rest["modelUri"] == "azureml://jobs/job_1/outputs/artifacts/paths/outputs/model.joblib"
    assert (rest["modelType"], rest["description"], rest["tags"]) == ("custom_model", "svm", {"area": "iris"})
    assert rest["properties"] == {"accuracy": "0.97", "model_framework": "ScikitLearn",
                                  "model_framework_version": "1.5.2"}
    assert model.version is None  # the service gives the next version
