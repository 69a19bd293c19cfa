"""amlocal's descriptions of a job, an environment and a cluster -> the real azureml objects.

Pure and offline: every function here only constructs SDK objects (ScriptRunConfig, Environment,
CondaDependencies, DataReference, AmlComputeProvisioningConfiguration), none of which touches
the network. The azureml backend submits what these build; the tests assert them field by field.

An amlocal ``SKLearn`` already carries an amlocal Environment with ``scikit-learn==<framework
version>`` and the user's packages (Azure ML's own SKLearn estimator only supports scikit-learn
0.20.3 on Python 3.6), so a run is always submitted as a ScriptRunConfig with that environment
translated: the same packages and pins the local backends installed.
"""

import re

from amlocal.local import DEFAULT_BASE_IMAGE as LOCAL_BASE_IMAGE
from amlocal.rules.packages import canonical_name
from amlocal.rules.paths import relative_data_path
from amlocal.specs import DataPathSpec

#: What a training script needs on Azure ML for ``Run.get_context()`` to log to run history.
LOGGING_PACKAGE = "azureml-defaults"


def _python_of_local_image(image):
    match = re.match(r"python:(\d+\.\d+)", image or "")
    return match.group(1) if match else "3.11"


#: The Python a run gets when its environment names none: the one of amlocal's default local
#: image, so a job sees the same Python version locally and on Azure.
DEFAULT_PYTHON_VERSION = _python_of_local_image(LOCAL_BASE_IMAGE)


def to_conda_dependencies(spec):
    """A real CondaDependencies with the packages, pins, options and channels of an
    EnvironmentSpec, plus azureml-defaults (the SDK's own default) unless the user lists it."""
    from azureml.core.conda_dependencies import CondaDependencies

    deps = CondaDependencies()  # the SDK's default: python, pip, azureml-defaults; anaconda + conda-forge
    deps.set_python_version(spec.python_version or DEFAULT_PYTHON_VERSION)
    for channel in spec.channels:
        deps.add_channel(channel)
    for package in spec.conda_packages:
        deps.add_conda_package(package)
    for option in spec.pip_options:
        deps.set_pip_option(option)
    if LOGGING_PACKAGE in {canonical_name(p) for p in spec.pip_packages}:
        deps.remove_pip_package(LOGGING_PACKAGE)  # the user's own pin of it wins
    for package in spec.pip_packages:
        deps.add_pip_package(package)
    return deps


def to_environment(spec):
    """A real azureml Environment equal to EnvironmentSpec ``spec`` (a curated one is fetched
    by name on Azure instead: see ``to_script_run_config``).

    The base image is the user's own ``docker.base_image`` when set, else Azure ML's default CPU
    image (which has the conda Azure builds environments with); amlocal's local-only default
    image (AMLOCAL_BASE_IMAGE, config.json "base_image") does not go to Azure. The environment
    variables go to the run configuration (``to_script_run_config``), where SDK v1 wants them."""
    from azureml.core import Environment
    from azureml.core.environment import DEFAULT_CPU_IMAGE

    env = Environment(spec.name)
    env.python.conda_dependencies = to_conda_dependencies(spec)
    env.python.user_managed_dependencies = bool(spec.user_managed)
    env.docker.base_image = spec.base_image or DEFAULT_CPU_IMAGE
    return env


def from_environment(env, curated=False):
    """The EnvironmentSpec of a real azureml Environment (what ``Environment.get`` returns)."""
    from amlocal.specs import EnvironmentSpec

    deps = env.python.conda_dependencies
    pip = list(deps.pip_packages) if deps else []
    conda = [p for p in (deps.conda_packages if deps else []) if p.split("=")[0] not in ("python", "pip")]
    return EnvironmentSpec(
        name=env.name, version=str(env.version) if env.version is not None else None, base_image=env.docker.base_image,
        python_version=deps.get_python_version() if deps else None, pip_packages=pip, conda_packages=conda,
        pip_options=list(deps.pip_options) if deps else [], channels=list(deps.conda_channels) if deps else [],
        user_managed=bool(env.python.user_managed_dependencies),
        environment_variables=dict(env.environment_variables or {}), curated=curated)


def to_data_reference(data_path, datastore):
    """The real DataReference of a DataPathSpec on the real ``datastore``.

    A name the user gave is kept; otherwise the SDK names it (a fresh hex id for a path, the
    datastore's name for its root), so two paths of one datastore never share a name. Both
    paths are checked (PathOutsideRootError) before the SDK sees them."""
    user_named = data_path.reference_name != data_path.datastore
    path = relative_data_path(data_path.path_on_datastore, "path_on_datastore", f"datastore {data_path.datastore!r}")
    on_compute = data_path.path_on_compute
    if on_compute is not None:
        relative_data_path(on_compute, "path_on_compute", "the job's working directory")
    ref = datastore.path(path or None, data_reference_name=data_path.reference_name if user_named else None)
    if data_path.mode == "download":
        return ref.as_download(path_on_compute=on_compute, overwrite=data_path.overwrite)
    return ref.as_mount()


def to_script_run_config(spec, compute_target, datastore_for, environment_for=None):
    """The real ScriptRunConfig of amlocal RunSpec ``spec`` on cluster ``compute_target``.

    ``datastore_for(name)`` returns the real datastore of that name. A DataReference argument
    becomes "$AZUREML_DATAREFERENCE_<name>" (Azure ML replaces it with the mounted or downloaded
    path) plus an entry in ``run_config.data_references``, as SDK v1 documents."""
    from azureml.core import ScriptRunConfig

    arguments, references = [], {}
    for argument in spec.arguments:
        if isinstance(argument, DataPathSpec):
            ref = to_data_reference(argument, datastore_for(argument.datastore))
            references[ref.data_reference_name] = ref.to_config()
            arguments.append(str(ref))
        else:
            arguments.append(str(argument))
    curated = spec.environment.curated and environment_for is not None
    environment = environment_for(spec.environment.name) if curated else to_environment(spec.environment)
    config = ScriptRunConfig(source_directory=spec.source_directory, script=spec.script, arguments=arguments,
                             compute_target=compute_target, environment=environment,
                             **({"max_run_duration_seconds": spec.max_run_duration_seconds}
                                if spec.max_run_duration_seconds else {}))
    config.run_config.environment_variables = dict(spec.environment.environment_variables)
    if references:
        config.run_config.data_references = references
    return config


def to_provisioning_configuration(configuration):
    """The real AmlComputeProvisioningConfiguration of ``AmlCompute.provisioning_configuration``'s
    keyword arguments (a dict): every one passes through, under the SDK's own names (amlocal's
    signature is the SDK's), so the SDK builds the create request from all of them."""
    from azureml.core.compute import AmlCompute

    return AmlCompute.provisioning_configuration(**configuration)


def offline_workspace(subscription_id, resource_group, workspace_name, location=None):
    """A real ``azureml.core.Workspace`` built without the network (for the fake and for tests):
    it never asks Azure whether the workspace exists, and its auth refuses to fetch a token."""
    from azureml.core import Workspace

    return Workspace(subscription_id, resource_group, workspace_name, auth=_offline_auth(),
                     _location=location, _disable_service_check=True)


def _offline_auth():
    from azureml.core.authentication import AbstractAuthentication
    from azureml.exceptions import AuthenticationException

    class OfflineAuthentication(AbstractAuthentication):
        """Signs nothing in: any request for a token means something tried to reach Azure."""

        def __init__(self):
            super().__init__(cloud="AzureCloud")

        def _refuse(self, *args, **kwargs):
            raise AuthenticationException("This workspace object was built offline (amlocal's FakeAzureAdapter or a "
                                          "translation test); it cannot call Azure.")

        _get_arm_token = _get_graph_token = _get_azureml_client_token = _refuse
        get_authentication_header = get_token = signed_session = _refuse

    return OfflineAuthentication()


def to_deploy_arguments(spec):
    """The real SDK objects ``Model.deploy`` takes for ServiceSpec ``spec`` (an ACI service):
    {"inference_config": InferenceConfig, "deployment_config": AciServiceDeploymentConfiguration}.
    The environment is ``to_environment``'s (azureml-defaults included: Azure's inference stack)."""
    from azureml.core.model import InferenceConfig
    from azureml.core.webservice import AciWebservice

    from amlocal.serving import SERVER_PACKAGE

    environment = to_environment(_without(spec.environment, SERVER_PACKAGE))
    environment.name = spec.environment.name
    inference_config = InferenceConfig(entry_script=spec.entry_script, source_directory=spec.source_directory,
                                       environment=environment, description=spec.description)
    options = dict(spec.deployment_options)
    options.setdefault("cpu_cores", spec.cpu_cores)
    options.setdefault("memory_gb", spec.memory_gb)
    options = {k: v for k, v in options.items() if v is not None}
    return {"inference_config": inference_config, "deployment_config": AciWebservice.deploy_configuration(**options)}


def _without(environment, package):
    """``environment`` less the server amlocal adds for local serving (azureml-defaults brings it on Azure)."""
    from amlocal.specs import replace

    return replace(environment, pip_packages=tuple(p for p in environment.pip_packages
                                                   if canonical_name(p) != package))


def to_hyperdrive_config(sweep, script_run_config):
    """The real ``azureml.train.hyperdrive.HyperDriveConfig`` of a SweepSpec whose trial is the
    real ``script_run_config``: the same sampling (parameter space and properties), policy,
    primary metric and goal, and limits."""
    from azureml.train import hyperdrive as sdk

    config = sweep.config
    sampling_class = {"RANDOM": sdk.RandomParameterSampling, "GRID": sdk.GridParameterSampling,
                      "BayesianOptimization": sdk.BayesianParameterSampling}[config["sampling"]["name"]]
    properties = config["sampling"].get("properties") or None
    sampling = sampling_class(config["sampling"]["parameter_space"], **({"properties": properties} if properties
                                                                        else {}))
    policy_settings = dict((config.get("policy") or {}).get("properties") or {})
    policy = {"Bandit": sdk.BanditPolicy, "MedianStopping": sdk.MedianStoppingPolicy,
              "TruncationSelection": sdk.TruncationSelectionPolicy}.get((config.get("policy") or {}).get("name"))
    goal = sdk.PrimaryMetricGoal.MAXIMIZE if config["primary_metric"]["goal"] == "maximize" \
        else sdk.PrimaryMetricGoal.MINIMIZE
    if policy:  # its config also holds what the service reads but the constructor sets itself
        import inspect

        accepted = inspect.signature(policy).parameters
        policy = policy(**{k: v for k, v in policy_settings.items() if k in accepted})
    return sdk.HyperDriveConfig(
        run_config=script_run_config, hyperparameter_sampling=sampling, policy=policy,
        primary_metric_name=config["primary_metric"]["name"], primary_metric_goal=goal,
        max_total_runs=config["max_total_runs"], max_concurrent_runs=config["max_concurrent_runs"],
        max_duration_minutes=config["max_duration_minutes"])
