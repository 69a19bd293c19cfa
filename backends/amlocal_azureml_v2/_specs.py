"""The run description the core hands a backend today (``amlocal.backend.RunSpec``, holding the
user's Environment and DataReference objects) as the plain ``amlocal.specs`` data this package
works on. Once the core builds ``amlocal.specs.RunSpec`` itself, this module goes away."""

from amlocal import specs

#: Azure ML's own (curated) environments are named "AzureML-..." in the SDKs and the CLI.
CURATED_PREFIX = "AzureML-"


def environment_spec(environment):
    if isinstance(environment, specs.EnvironmentSpec):
        return environment
    deps = environment.python.conda_dependencies
    data = deps.to_dict()
    return specs.EnvironmentSpec(
        name=environment.name, version=getattr(environment, "version", None),
        base_image=environment.docker.base_image, python_version=deps.get_python_version(),
        pip_packages=deps.pip_packages, conda_packages=deps.conda_packages, pip_options=deps.pip_options,
        channels=data.get("channels") or (), user_managed=bool(environment.python.user_managed_dependencies),
        environment_variables=dict(getattr(environment, "environment_variables", {}) or {}),
        curated=environment.name.startswith(CURATED_PREFIX))


def data_path_spec(reference):
    if isinstance(reference, specs.DataPathSpec):
        return reference
    return specs.DataPathSpec(datastore=reference.datastore.name, path_on_datastore=reference.path_on_datastore or "",
                              mode=reference.mode, path_on_compute=reference.path_on_compute,
                              reference_name=reference.data_reference_name, overwrite=bool(reference.overwrite))


def run_spec(spec):
    """``spec`` as an ``amlocal.specs.RunSpec`` (returned as it is when it already is one)."""
    if isinstance(spec, specs.RunSpec):
        return spec
    arguments = [a if isinstance(a, (str, int, float, bool)) else data_path_spec(a) for a in spec.arguments]
    return specs.RunSpec(experiment=spec.experiment, source_directory=spec.source_directory, script=spec.script,
                         arguments=tuple(arguments), environment=environment_spec(spec.environment),
                         compute_target=spec.compute_target, tags=dict(spec.tags or {}),
                         max_run_duration_seconds=spec.max_run_duration_seconds)
