"""amlocal objects -> the real azureml objects, built offline and checked field by field."""

import pytest
from azureml.core import Environment as SdkEnvironment
from azureml.core import ScriptRunConfig as SdkScriptRunConfig
from azureml.core import Workspace as SdkWorkspace
from azureml.core.compute.amlcompute import AmlComputeProvisioningConfiguration
from azureml.core.conda_dependencies import CondaDependencies as SdkCondaDependencies
from azureml.core.environment import DEFAULT_CPU_IMAGE
from azureml.core.runconfig import DataReferenceConfiguration
from azureml.data.azure_storage_datastore import AzureBlobDatastore
from azureml.data.data_reference import DataReference as SdkDataReference

from amlocal.specs import RunSpec, replace
from amlocal.core import Datastore, Environment, ScriptRunConfig, Workspace
from amlocal.core.compute import AmlCompute
from amlocal.train.sklearn import DEFAULT_FRAMEWORK_VERSION, SKLearn
from amlocal_azureml import translate


@pytest.fixture
def offline_ws():
    return translate.offline_workspace("sub-id", "rg", "ws", location="westeurope")


@pytest.fixture
def blobstore(offline_ws):
    return AzureBlobDatastore(offline_ws, "workspaceblobstore", "azureml-blobstore-x", "account")


@pytest.fixture
def local_ws(project):
    return Workspace.from_config(backend="process")


def iris_spec(local_ws, arguments=None, **sklearn_options):
    estimator = SKLearn(source_directory="src", entry_script="train_iris.py", compute_target="cpu-cluster",
                        script_params={"--kernel": "linear", "--penalty": 1.0}, pip_packages=["joblib"],
                        **sklearn_options)
    spec = estimator._run_spec("sklearn-iris")
    if arguments is not None:
        spec = replace(spec, arguments=tuple(a._spec() if hasattr(a, "_spec") else a for a in arguments))
    return spec


def test_offline_workspace_is_the_real_class_and_never_signs_in(offline_ws):
    from azureml.exceptions import AuthenticationException

    assert isinstance(offline_ws, SdkWorkspace)
    assert (offline_ws.subscription_id, offline_ws.resource_group, offline_ws.name) == ("sub-id", "rg", "ws")
    with pytest.raises(AuthenticationException, match="built offline"):
        offline_ws._auth_object.get_authentication_header()


def test_sklearn_environment_carries_the_framework_pin_packages_and_azureml_defaults(local_ws):
    env = translate.to_environment(iris_spec(local_ws).environment)
    assert isinstance(env, SdkEnvironment)
    assert env.name == "amlocal-sklearn"
    deps = env.python.conda_dependencies
    assert isinstance(deps, SdkCondaDependencies)
    assert list(deps.pip_packages) == ["azureml-defaults", f"scikit-learn=={DEFAULT_FRAMEWORK_VERSION}", "joblib"]
    assert deps.get_python_version() == translate.DEFAULT_PYTHON_VERSION == "3.11"
    assert list(deps.conda_packages) == ["python=3.11"]
    assert list(deps.conda_channels) == ["anaconda", "conda-forge"]
    assert list(deps.pip_options) == []
    assert env.python.user_managed_dependencies is False
    assert env.docker.base_image == DEFAULT_CPU_IMAGE


def test_framework_version_and_user_options_are_translated(local_ws, tmp_path):
    spec = iris_spec(local_ws, framework_version="1.5.2", custom_docker_image="myregistry.azurecr.io/train:1",
                     conda_packages=["libgomp"], environment_variables={"OMP_NUM_THREADS": "2"})
    spec = replace(spec, environment=replace(spec.environment, python_version="3.10",
                                             pip_options=("--extra-index-url https://example.invalid/simple",)))
    env = translate.to_environment(spec.environment)
    deps = env.python.conda_dependencies
    assert list(deps.pip_packages) == ["azureml-defaults", "scikit-learn==1.5.2", "joblib"]
    assert list(deps.conda_packages) == ["python=3.10", "libgomp"]
    assert list(deps.pip_options) == ["--extra-index-url https://example.invalid/simple"]
    assert env.docker.base_image == "myregistry.azurecr.io/train:1"
    config = translate.to_script_run_config(spec, "cpu-cluster", datastore_for=None)
    assert config.run_config.environment_variables == {"OMP_NUM_THREADS": "2"}


def test_a_pin_of_azureml_defaults_by_the_user_wins():
    env = Environment("pinned")
    env.python.conda_dependencies.add_pip_package("azureml-defaults==1.60.0")
    env.python.conda_dependencies.add_pip_package("numpy")
    deps = translate.to_environment(env._spec()).python.conda_dependencies
    assert list(deps.pip_packages) == ["azureml-defaults==1.60.0", "numpy"]


def test_user_managed_environment_and_conda_file(tmp_path):
    conda_file = tmp_path / "env.yml"
    conda_file.write_text("name: x\nchannels:\n  - pytorch\ndependencies:\n  - python=3.9\n  - numpy\n"
                          "  - pip:\n    - torch==2.3.0\n")
    env = Environment.from_conda_specification("from-file", conda_file)
    env.python.user_managed_dependencies = True
    real = translate.to_environment(env._spec())
    deps = real.python.conda_dependencies
    assert real.python.user_managed_dependencies is True
    assert list(deps.conda_channels) == ["anaconda", "conda-forge", "pytorch"]
    assert list(deps.conda_packages) == ["python=3.9", "numpy"]
    assert list(deps.pip_packages) == ["azureml-defaults", "torch==2.3.0"]


def test_script_run_config_fields(local_ws):
    spec = iris_spec(local_ws)
    config = translate.to_script_run_config(spec, "cpu-cluster", datastore_for=None)
    assert isinstance(config, SdkScriptRunConfig)
    assert config.source_directory == spec.source_directory
    assert config.script == "train_iris.py"
    assert config.arguments == ["--kernel", "linear", "--penalty", "1.0"]
    assert config.run_config.target == "cpu-cluster"
    assert config.run_config.environment.name == "amlocal-sklearn"
    assert "scikit-learn==" + DEFAULT_FRAMEWORK_VERSION in config.run_config.environment.python.conda_dependencies \
        .pip_packages
    assert config.run_config.max_run_duration_seconds == SdkScriptRunConfig.MAX_DURATION_SECONDS_DEFAULT
    assert config.run_config.data_references == {}
    assert config.run_config.environment_variables == {}


def test_max_run_duration_is_kept(local_ws):
    spec = iris_spec(local_ws, max_run_duration_seconds=600)
    assert translate.to_script_run_config(spec, "c", None).run_config.max_run_duration_seconds == 600


def test_data_references_become_azure_placeholders_and_run_config_entries(local_ws, blobstore):
    ds = Datastore(local_ws)
    mounted = ds.path("iris").as_mount()
    downloaded = ds.path("iris/iris.csv").as_download(path_on_compute="data/iris.csv")
    named = ds.path("iris", data_reference_name="irisdata").as_mount()
    spec = iris_spec(local_ws, arguments=["--mounted", mounted, "--downloaded", downloaded, "--named", named])
    asked = []

    def datastore_for(name):
        asked.append(name)
        return blobstore

    config = translate.to_script_run_config(spec, "cpu-cluster", datastore_for)
    assert asked == ["workspaceblobstore"] * 3
    references = config.run_config.data_references
    assert len(references) == 3
    names = [argument.removeprefix("$AZUREML_DATAREFERENCE_") for argument in config.arguments[1::2]]
    assert config.arguments[0::2] == ["--mounted", "--downloaded", "--named"]
    assert all(a.startswith("$AZUREML_DATAREFERENCE_") for a in config.arguments[1::2])
    assert names[2] == "irisdata" and len(set(names)) == 3
    mount, download, named_ref = (references[n] for n in names)
    for ref in (mount, download, named_ref):
        assert isinstance(ref, DataReferenceConfiguration)
        assert ref.data_store_name == "workspaceblobstore"
        assert ref.overwrite is False
    assert (mount.mode, mount.path_on_data_store, mount.path_on_compute) == ("mount", "iris", None)
    assert (download.mode, download.path_on_data_store, download.path_on_compute) == \
        ("download", "iris/iris.csv", "data/iris.csv")
    assert (named_ref.mode, named_ref.path_on_data_store) == ("mount", "iris")


def test_data_reference_object(local_ws, blobstore):
    real = translate.to_data_reference(Datastore(local_ws).path("iris").as_download()._spec(), blobstore)
    assert isinstance(real, SdkDataReference)
    assert real.datastore is blobstore
    assert (real.path_on_datastore, real.mode, real.path_on_compute) == ("iris", "download", None)
    root = translate.to_data_reference(Datastore(local_ws).as_mount()._spec(), blobstore)
    assert (root.data_reference_name, root.path_on_datastore, root.mode) == ("workspaceblobstore", None, "mount")


def test_provisioning_configuration_fields():
    local = AmlCompute.provisioning_configuration(vm_size="STANDARD_DS3_V2", vm_priority="lowpriority", min_nodes=1,
                                                  max_nodes=6, idle_seconds_before_scaledown=600,
                                                  tags={"team": "ml"}, description="training", location="westeurope")
    real = translate.to_provisioning_configuration(local.to_dict())
    assert isinstance(real, AmlComputeProvisioningConfiguration)
    assert (real.vm_size, real.vm_priority) == ("STANDARD_DS3_V2", "lowpriority")
    assert real.scale_settings.minimum_node_count == 1
    assert real.scale_settings.maximum_node_count == 6
    assert real.scale_settings.idle_seconds_before_scaledown == 600
    assert (real.tags, real.description, real.compute_location) == ({"team": "ml"}, "training", "westeurope")


def test_provisioning_configuration_defaults():
    real = translate.to_provisioning_configuration(AmlCompute.provisioning_configuration(max_nodes=4).to_dict())
    assert (real.vm_size, real.vm_priority) == ("STANDARD_D2_V2", "dedicated")
    assert (real.scale_settings.minimum_node_count, real.scale_settings.maximum_node_count) == (0, 4)
    assert real.scale_settings.idle_seconds_before_scaledown == 1800


def test_script_run_config_from_a_plain_script_run_config(project):
    config = ScriptRunConfig(source_directory="src", script="train_iris.py", arguments=["--penalty", 0.5, True],
                             environment=Environment("plain"))
    spec = config._run_spec("exp")
    assert isinstance(spec, RunSpec)
    real = translate.to_script_run_config(spec, "gpu", None)
    assert real.arguments == ["--penalty", "0.5", "True"]
    assert real.run_config.target == "gpu"
    assert list(real.run_config.environment.python.conda_dependencies.pip_packages) == ["azureml-defaults"]
