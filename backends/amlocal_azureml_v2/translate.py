"""amlocal's plain specs -> the real azure-ai-ml (SDK v2) entities. Pure and offline: nothing here
touches the network; the backend submits what these build and the tests assert them against the
entities' own REST serialisation (``_to_rest_object()``).

    to_command_job        RunSpec -> ``azure.ai.ml.command()`` (a Command job)
    to_environment        EnvironmentSpec -> ``Environment(image=..., conda_file=...)`` or a curated name
    to_registered_environment / from_environment   EnvironmentSpec <-> a named ``Environment``
    to_input              DataPathSpec -> ``Input(type="uri_folder"|"uri_file", mode="ro_mount"|"download")``
    to_aml_compute        ``AmlCompute.provisioning_configuration``'s keywords -> ``AmlCompute(...)``
    to_model              a run's file or a local path -> ``Model(path=...)``

What SDK v2 cannot express is refused here with InvalidArgumentError / ComputeTargetException
naming the setting and what to do instead (a DataPath's ``path_on_compute``, a v1 VNet given
without its subnet, ...).
"""

import re
import shlex

from amlocal.exceptions import ComputeTargetException, InvalidArgumentError
from amlocal.local import DEFAULT_BASE_IMAGE as LOCAL_BASE_IMAGE
from amlocal.rules.models import string_tags
from amlocal.rules.packages import canonical_name
from amlocal.rules.paths import relative_data_path
from amlocal.specs import DataPathSpec, EnvironmentSpec

#: Where amlocal's runtime shim sits inside the code snapshot a job receives (``_code.stage``).
SHIM_FOLDER = "_amlocal_shim"
#: What a job needs for ``Run.get_context()`` to reach the workspace's MLflow tracking.
LOGGING_PACKAGES = ("mlflow", "azureml-mlflow")
#: Azure ML's CPU base image (the family SDK v1 uses by default), used when the environment names none.
DEFAULT_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
DEFAULT_CHANNELS = ("conda-forge",)
#: azure-ai-ml's rule for input names (``validate_key_contains_allowed_characters``).
INPUT_NAME = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
#: The run's own variables, set on every job: the shim reads them (``_mlflow_sink``, run.py).
SINK_VARIABLES = ("AMLOCAL_RUN_SINK", "AMLOCAL_RUN_ID", "AMLOCAL_EXPERIMENT_NAME")
MODES = {"mount": "ro_mount", "download": "download"}


def _python_of_local_image(image):
    match = re.match(r"python:(\d+\.\d+)", image or "")
    return match.group(1) if match else "3.11"


#: The Python of a job whose environment names none: the one of amlocal's default local image.
DEFAULT_PYTHON_VERSION = _python_of_local_image(LOCAL_BASE_IMAGE)


def has_mlflow(pip_packages):
    """Whether pip requirements install mlflow (or its skinny client)."""
    return bool({canonical_name(p) for p in pip_packages} & {"mlflow", "mlflow-skinny"})


def conda_file(env_spec, logging=True):
    """The conda specification (a dict, as ``Environment(conda_file=...)`` takes) of ``env_spec``:
    its Python, channels, conda and pip packages and pip options, plus (``logging``) mlflow and
    azureml-mlflow unless the user lists them (a user's pin wins)."""
    pip = list(env_spec.pip_options) + list(env_spec.pip_packages)
    names = {canonical_name(p) for p in env_spec.pip_packages}
    for package in LOGGING_PACKAGES if logging else ():
        if package not in names and not (package == "mlflow" and has_mlflow(env_spec.pip_packages)):
            pip.append(package)
    conda_names = {canonical_name(p) for p in env_spec.conda_packages}
    dependencies = []
    if "python" not in conda_names:
        dependencies.append(f"python={env_spec.python_version or DEFAULT_PYTHON_VERSION}")
    if "pip" not in conda_names:
        dependencies.append("pip")
    dependencies += list(env_spec.conda_packages)
    dependencies.append({"pip": pip})
    return {"name": _conda_env_name(env_spec.name), "channels": list(env_spec.channels or DEFAULT_CHANNELS),
            "dependencies": dependencies}


def _conda_env_name(name):
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", name or "amlocal") or "amlocal"


def to_environment(env_spec):
    """What the job's ``environment=`` gets for ``env_spec``.

    * a curated Azure ML environment (``curated``): the reference string
      ``azureml:<name>@latest`` (``azureml:<name>:<version>`` with a version), used as it is;
    * otherwise an anonymous ``Environment`` with the user's ``base_image`` (else Azure ML's
      CPU image, ``DEFAULT_IMAGE``) and the conda file of ``conda_file``; a user-managed
      environment (``user_managed``) is the image alone: Azure ML installs nothing, so the image
      must already have mlflow and azureml-mlflow for the script's metrics to reach the workspace.
    """
    from azure.ai.ml.entities import Environment

    if env_spec.curated:
        return f"azureml:{env_spec.name}:{env_spec.version}" if env_spec.version else f"azureml:{env_spec.name}@latest"
    image = env_spec.base_image or DEFAULT_IMAGE
    if env_spec.user_managed:
        return Environment(image=image)
    return Environment(image=image, conda_file=conda_file(env_spec))


def to_registered_environment(env_spec):
    """The named ``Environment`` that ``Environment.register`` stores: the user's definition as it
    is (no logging packages added: a job gets those from ``to_environment``), version left to
    the service (the next one)."""
    from azure.ai.ml.entities import Environment

    image = env_spec.base_image or DEFAULT_IMAGE
    if env_spec.user_managed:
        return Environment(name=env_spec.name, image=image)
    return Environment(name=env_spec.name, image=image, conda_file=conda_file(env_spec, logging=False))


def from_environment(environment, curated=False):
    """The EnvironmentSpec of an azure-ai-ml ``Environment`` (registered or curated). An image
    without a conda file is a user-managed environment: Azure installs nothing in it."""
    conda = environment.conda_file if isinstance(environment.conda_file, dict) else None
    python_version, pip, conda_packages = None, [], []
    for dependency in (conda or {}).get("dependencies") or []:
        if isinstance(dependency, dict):
            pip.extend(str(p) for p in dependency.get("pip") or [])
        elif canonical_name(dependency) == "python":
            python_version = str(dependency).partition("=")[2].lstrip("=") or None
        elif canonical_name(dependency) != "pip":
            conda_packages.append(str(dependency))
    options = [p for p in pip if p.startswith("-")]
    return EnvironmentSpec(
        name=environment.name, version=None if environment.version is None else str(environment.version),
        base_image=environment.image, python_version=python_version, pip_packages=[p for p in pip if p not in options],
        conda_packages=conda_packages, pip_options=options, channels=list((conda or {}).get("channels") or []),
        user_managed=conda is None and not curated, curated=curated)


def datastore_uri(datastore, path):
    path = (path or "").strip("/")
    return f"azureml://datastores/{datastore}/paths/{path}" if path else f"azureml://datastores/{datastore}/paths/"


def to_input(data_path, is_file=False):
    """The job input of a ``ds.path(...).as_mount()`` / ``.as_download()`` argument: a
    ``uri_folder`` (``uri_file`` when the path is one file) in mode ``ro_mount`` / ``download``."""
    from azure.ai.ml import Input

    if data_path.path_on_compute:
        raise InvalidArgumentError(
            f"as_download(path_on_compute={data_path.path_on_compute!r}) cannot be expressed in an Azure ML SDK v2 "
            "job: azure-ai-ml gives a uri_folder/uri_file input no path on the compute, and the job receives the "
            "download location as the argument instead. Drop path_on_compute and read the path from the argument.")
    path = relative_data_path(data_path.path_on_datastore, "path_on_datastore", f"datastore {data_path.datastore!r}")
    return Input(type="uri_file" if is_file else "uri_folder", path=datastore_uri(data_path.datastore, path),
                 mode=MODES[data_path.mode])


#: the name azureml (and amlocal) give a reference to a path inside a datastore: uuid4().hex
AUTOMATIC_REFERENCE_NAME = re.compile(r"[0-9a-f]{32}")


def _input_names(data_paths):
    """One input name per distinct DataPathSpec: its reference name made valid for azure-ai-ml,
    with _2, _3, ... when two different paths would share one."""
    names, taken = {}, set()
    for data_path in data_paths:
        if data_path in names:
            continue
        reference = data_path.reference_name or data_path.datastore
        if AUTOMATIC_REFERENCE_NAME.fullmatch(reference):  # ds.path(p)'s uuid hex: named after its datastore
            reference = data_path.datastore
        stem = re.sub(r"[^a-zA-Z0-9_]", "_", reference)
        if not INPUT_NAME.match(stem):
            stem = f"data_{stem}"
        name, index = stem, 1
        while name in taken:
            index += 1
            name = f"{stem}_{index}"
        names[data_path] = name
        taken.add(name)
    return names


def command_line(script, arguments, input_names):
    """``python <script> <arguments>`` with each DataPathSpec as ``${{inputs.<name>}}`` (Azure ML
    puts the path there), after putting the shim first on PYTHONPATH. Azure ML runs the command
    with a shell in the code directory; everything else is quoted for that shell."""
    parts = []
    for argument in arguments:
        if isinstance(argument, DataPathSpec):
            parts.append("${{inputs.%s}}" % input_names[argument])
            continue
        if "${{" in argument:
            raise InvalidArgumentError(
                f"The argument {argument!r} contains '${{{{', which Azure ML SDK v2 reads as a binding of the job's "
                "inputs or outputs. Pass data as ds.path(...).as_mount() / .as_download() instead.")
        parts.append(shlex.quote(argument))
    python = f"python {shlex.quote(script)}" + "".join(" " + part for part in parts)
    return f'PYTHONPATH="$PWD/{SHIM_FOLDER}${{PYTHONPATH:+:$PYTHONPATH}}" {python}'


def to_command_job(spec, name, code, compute, file_inputs=()):
    """The ``command()`` job of RunSpec ``spec``, named ``name`` (its run id), running ``code``
    (the staged snapshot: source directory + shim, see ``_code.stage``) on cluster ``compute``.
    ``file_inputs``: the DataPathSpecs that point at one file (``uri_file`` inputs)."""
    from azure.ai.ml import command

    if not compute:
        raise InvalidArgumentError("An Azure ML job needs a compute target (an AmlCompute cluster name).")
    names = _input_names(spec.data_paths)
    inputs = {input_name: to_input(data_path, data_path in set(file_inputs))
              for data_path, input_name in names.items()}
    variables = dict(spec.environment.environment_variables)
    variables.update({"AMLOCAL_RUN_SINK": "mlflow", "AMLOCAL_RUN_ID": name,
                      "AMLOCAL_EXPERIMENT_NAME": spec.experiment})
    options = {}
    if spec.max_run_duration_seconds:
        options["timeout"] = int(spec.max_run_duration_seconds)
    return command(name=name, display_name=name, experiment_name=spec.experiment, code=str(code),
                   command=command_line(spec.script, spec.arguments, names), inputs=inputs,
                   environment=to_environment(spec.environment), environment_variables=variables,
                   compute=compute, tags=dict(spec.tags), properties=dict(spec.properties) or None, **options)


# -- compute ---------------------------------------------------------------------------------

_PRIORITIES = {"dedicated": "dedicated", "lowpriority": "low_priority", "low_priority": "low_priority"}
_IDENTITIES = {"systemassigned": "system_assigned", "userassigned": "user_assigned"}
_PUBLIC_ACCESS = {"enabled": True, "disabled": False, "notspecified": None}


def _setting(config, name, default=None):
    return config.get(name, default)


def to_aml_compute(name, config, subscription_id=None):
    """``AmlCompute`` of the keyword arguments of ``AmlCompute.provisioning_configuration(...)``
    (SDK v1's, as a dict), every setting mapped to its SDK v2 counterpart:

    vm_size -> size; vm_priority -> tier; min_nodes/max_nodes -> min/max_instances;
    idle_seconds_before_scaledown -> idle_time_before_scale_down (seconds); admin_username /
    admin_user_password / admin_user_ssh_key -> ssh_settings; remote_login_port_public_access ->
    ssh_public_access_enabled; vnet_name + subnet_name (+ vnet_resourcegroup_name, as a full subnet
    id) -> network_settings; identity_type + identity_id -> identity; enable_node_public_ip,
    tags, description, location as they are. Raises ComputeTargetException for a value SDK v2
    cannot take."""
    from azure.ai.ml.entities import (AmlCompute, AmlComputeSshSettings, IdentityConfiguration,
                                      ManagedIdentityConfiguration, NetworkSettings)

    priority = str(_setting(config, "vm_priority", "dedicated") or "dedicated").lower()
    if priority not in _PRIORITIES:
        raise ComputeTargetException(f"vm_priority {priority!r} is not one Azure ML knows: use 'dedicated' or "
                                     "'lowpriority'.")
    options = {}
    username = _setting(config, "admin_username")
    if username:
        options["ssh_settings"] = AmlComputeSshSettings(admin_username=username,
                                                        admin_password=_setting(config, "admin_user_password"),
                                                        ssh_key_value=_setting(config, "admin_user_ssh_key"))
    elif _setting(config, "admin_user_password") or _setting(config, "admin_user_ssh_key"):
        raise ComputeTargetException("admin_user_password / admin_user_ssh_key need admin_username too.")
    access = str(_setting(config, "remote_login_port_public_access", "NotSpecified") or "NotSpecified").lower()
    if access not in _PUBLIC_ACCESS:
        raise ComputeTargetException(f"remote_login_port_public_access {access!r}: use 'Enabled', 'Disabled' or "
                                     "'NotSpecified'.")
    options["ssh_public_access_enabled"] = _PUBLIC_ACCESS[access]
    network = _network_settings(config, subscription_id, NetworkSettings)
    if network is not None:
        options["network_settings"] = network
    identity = _identity(config, IdentityConfiguration, ManagedIdentityConfiguration)
    if identity is not None:
        options["identity"] = identity
    if _setting(config, "location"):
        options["location"] = _setting(config, "location")
    idle = _setting(config, "idle_seconds_before_scaledown", 1800)
    return AmlCompute(name=name, size=_setting(config, "vm_size") or "STANDARD_D2_V2", tier=_PRIORITIES[priority],
                      min_instances=int(_setting(config, "min_nodes", 0) or 0),
                      max_instances=int(_setting(config, "max_nodes")),
                      idle_time_before_scale_down=None if idle is None else int(idle),
                      enable_node_public_ip=bool(_setting(config, "enable_node_public_ip", True)),
                      tags=dict(_setting(config, "tags") or {}) or None, description=_setting(config, "description"),
                      **options)


def _network_settings(config, subscription_id, network_class):
    vnet, subnet = _setting(config, "vnet_name"), _setting(config, "subnet_name")
    vnet_group = _setting(config, "vnet_resourcegroup_name")
    if not (vnet or subnet or vnet_group):
        return None
    if not (vnet and subnet):
        raise ComputeTargetException("A cluster in a virtual network needs both vnet_name and subnet_name "
                                     f"(got vnet_name={vnet!r}, subnet_name={subnet!r}).")
    if vnet_group:  # another resource group than the workspace's: SDK v2 takes the subnet's full id
        if not subscription_id:
            raise ComputeTargetException("vnet_resourcegroup_name needs the workspace's subscription id.")
        return network_class(subnet=f"/subscriptions/{subscription_id}/resourceGroups/{vnet_group}/providers/"
                                    f"Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}")
    return network_class(vnet_name=vnet, subnet=subnet)


def _identity(config, identity_class, managed_class):
    kind, ids = _setting(config, "identity_type"), _setting(config, "identity_id")
    if not kind:
        if ids:
            raise ComputeTargetException("identity_id needs identity_type='UserAssigned'.")
        return None
    key = str(kind).replace(" ", "").lower()
    if key not in _IDENTITIES:
        raise ComputeTargetException(f"identity_type {kind!r}: use 'SystemAssigned' or 'UserAssigned'.")
    ids = [ids] if isinstance(ids, str) else list(ids or [])
    if "user" in key and not ids:
        raise ComputeTargetException("identity_type='UserAssigned' needs identity_id=[<identity resource id>, ...].")
    return identity_class(type=_IDENTITIES[key],
                          user_assigned_identities=[managed_class(resource_id=i) for i in ids] or None)


# -- models ----------------------------------------------------------------------------------

def job_artifact_uri(job_name, path):
    """The address of a job's file among its default artifacts (``./outputs/...`` and the like)."""
    return f"azureml://jobs/{job_name}/outputs/artifacts/paths/{path.strip('/')}"


def to_model(name, path, tags=None, properties=None, description=None, model_framework=None,
             model_framework_version=None):
    """``Model(...)`` registering ``path`` (a local file/folder or ``job_artifact_uri``) as the
    next version of ``name``. SDK v2 models have no framework fields: model_framework and its
    version are kept as the properties ``model_framework`` / ``model_framework_version``."""
    from azure.ai.ml.entities import Model

    # azure-ai-ml sends tags and properties as strings and drops a None value with its key
    # (Model._to_rest_object), so a tag without a value is kept as "" (as on the job's MLflow run)
    properties = string_tags(properties, missing="")
    if model_framework:
        properties["model_framework"] = str(model_framework)
    if model_framework_version:
        properties["model_framework_version"] = str(model_framework_version)
    return Model(name=name, path=str(path), type="custom_model", description=description,
                 tags=string_tags(tags, missing="") or None, properties=properties or None)
