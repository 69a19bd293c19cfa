"""From what the user wrote (models, an InferenceConfig, a deployment configuration) to a
``ServiceSpec``, and which ServingBackend runs it."""

import os
import sys

from ...exceptions import InvalidArgumentError, WebserviceException
from ...serving import ModelMount, ServiceSpec, open_serving, service_name_problem, serving_environment

SKLEARN_FRAMEWORKS = ("ScikitLearn", "sklearn", "scikit-learn")


def check_service_name(name):
    """azureml's ``webservice_name_validation``."""
    problem = service_name_problem(name)
    if problem:
        raise WebserviceException(problem)
    return name


def serving_for(workspace, compute_type):
    """The ServingBackend of ``compute_type``: local services always run here; ACI ones run
    here too unless the workspace's backend serves them itself (the azureml backend: Azure)."""
    if compute_type == "ACI" and workspace.backend_name not in ("docker", "process"):
        return open_serving(workspace, workspace.backend_name)
    return open_serving(workspace)


def model_mounts(workspace, models):
    """Models given to deploy (Model objects, "name:version" ids, or paths of unregistered
    model files, which become version 0 as in azureml's local deployments)."""
    from ..model import Model

    mounts = []
    for model in models or []:
        if isinstance(model, str):
            if os.path.exists(model) and ":" not in os.path.basename(model):
                name = os.path.basename(os.path.normpath(model))[:30]
                mounts.append(ModelMount(name=name, version=0, path=os.path.realpath(model)))
                continue
            model = Model(workspace, id=model)
        if not isinstance(model, Model):
            raise NotImplementedError("Models must either be of type amlocal.core.model.Model or a str path to a file "
                                      "or folder.")
        path = workspace.model_registry.local_path(model.name, model.version)
        mounts.append(ModelMount(name=model.name, version=int(model.version), path=os.path.realpath(path)))
    return tuple(mounts)


def default_inference(workspace, name, mounts):
    """No InferenceConfig: amlocal's default scorer for one scikit-learn model (Azure's "no-code
    deployment" of a ScikitLearn model), in the environment of the run that trained it."""
    from ..._serving import SKLEARN_PACKAGES, SKLEARN_SCORER
    from ...specs import EnvironmentSpec
    from ..model import Model

    if len(mounts) != 1:
        raise WebserviceException("You must provide an InferenceConfig when deploying zero or multiple models.")
    mount = mounts[0]
    model = Model(workspace, mount.name, version=mount.version) if mount.version else None
    framework = model.model_framework if model else None
    if framework and framework not in SKLEARN_FRAMEWORKS:
        raise WebserviceException(f"You must provide an InferenceConfig when deploying a model with model_framework "
                                  f"set to {framework}. amlocal's default scorer serves ScikitLearn models.")
    environment = _training_environment(workspace, model)
    if environment is None:
        pins = list(SKLEARN_PACKAGES)
        if model and model.model_framework_version:
            pins[0] = f"scikit-learn=={model.model_framework_version}"
        environment = EnvironmentSpec(name=f"{name}-env", pip_packages=pins)
    else:
        from ...rules.packages import canonical_name
        from ...specs import replace

        have = {canonical_name(p) for p in environment.pip_packages}
        missing = [p for p in SKLEARN_PACKAGES if canonical_name(p) not in have]
        environment = replace(environment, pip_packages=(*environment.pip_packages, *missing))
    return str(SKLEARN_SCORER), None, environment


def _training_environment(workspace, model):
    """The environment the model's run trained in (same libraries, same image), if known."""
    from ...specs import EnvironmentSpec

    if model is None or not model.run_id:
        return None
    try:
        record = workspace.run_history.get_run(model.run_id)
    except Exception:  # a model registered from a file, or a run no longer in history
        return None
    environment = (record or {}).get("environment")
    return EnvironmentSpec.from_dict(environment) if environment else None


def build_spec(workspace, name, models, inference_config, compute_type, port=None, bind_address=None,
               cpu_cores=None, memory_gb=None, description=None, tags=None, properties=None, deployment_options=None):
    mounts = model_mounts(workspace, models)
    if inference_config is None:
        entry_script, source_directory, environment = default_inference(workspace, name, mounts)
    else:
        entry_script, source_directory = inference_config.entry_script, inference_config.source_directory
        environment = inference_config._environment_spec(name)
        if not source_directory:
            entry_script = os.path.realpath(entry_script)
    try:
        return ServiceSpec(name=name, entry_script=entry_script, source_directory=source_directory,
                           environment=serving_environment(environment), models=mounts, port=port,
                           bind_address=bind_address or "127.0.0.1", compute_type=compute_type, cpu_cores=cpu_cores,
                           memory_gb=memory_gb, description=description, tags=tags or {},
                           properties=properties or {}, deployment_options=deployment_options or {})
    except (TypeError, ValueError) as err:
        raise InvalidArgumentError(f"Cannot deploy service {name!r}: {err}") from err


def run_deploy(serving, spec, show_output=False):
    """Deploy ``spec``; the image build (on a cache miss) prints as it goes."""
    print(f"Deploying service {spec.name!r} ({len(spec.models)} model(s), entry script {spec.entry_in_app})")
    return serving.deploy(spec, _ProgressLog(sys.stdout))


class _ProgressLog:
    """Build output to the user's terminal, flushed line by line."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        self.stream.write(text)
        self.stream.flush()

    def flush(self):
        self.stream.flush()


def deploy_models(workspace, name, models, inference_config, deployment_config, deployment_target, overwrite,
                  show_output):
    """``Model.deploy``: the SDK's checks, then the deployment configuration's kind deploys."""
    from ..inference_config import InferenceConfig
    from .aci import AciServiceDeploymentConfiguration, AciWebservice
    from .local import LocalWebservice, LocalWebserviceDeploymentConfiguration

    check_service_name(name)
    if inference_config is not None and not isinstance(inference_config, InferenceConfig):
        raise WebserviceException("Error, provided inference configuration must be of type InferenceConfig.")
    if deployment_target is not None:
        raise WebserviceException("Error, deployment_target (AKS) is not supported: deploy with "
                                  "LocalWebservice.deploy_configuration() or AciWebservice.deploy_configuration().")
    if show_output:
        if models:
            print(f"Models: {[getattr(m, 'id', m) for m in models]}")
        if inference_config is not None:
            print(f"Entry script: {inference_config.entry_script}")
        if deployment_config is not None:
            deployment_config.print_deploy_configuration()
    if deployment_config is None:
        deployment_config = AciWebservice.deploy_configuration()
    if isinstance(deployment_config, LocalWebserviceDeploymentConfiguration):
        return LocalWebservice._deploy(workspace, name, models, inference_config, deployment_config)
    if isinstance(deployment_config, AciServiceDeploymentConfiguration):
        return AciWebservice._deploy(workspace, name, models, inference_config, deployment_config, overwrite)
    raise WebserviceException(f"Error, deployment configuration {type(deployment_config).__name__} is not supported: "
                              "use LocalWebservice.deploy_configuration() or AciWebservice.deploy_configuration().")
