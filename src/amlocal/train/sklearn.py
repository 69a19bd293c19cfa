"""The SKLearn estimator (``azureml.train.sklearn.SKLearn``).

Azure ML's own SKLearn only supports scikit-learn 0.20.3 on Python 3.6; amlocal builds the
same thing an up-to-date user would: an Environment with scikit-learn pinned to
``framework_version`` (default DEFAULT_FRAMEWORK_VERSION) plus the user's packages. The
Azure backend submits that same Environment through a ScriptRunConfig.
"""

from ..core.environment import Environment
from ..core.script_run_config import build_run_spec, check_arguments, script_params_to_arguments
from ..exceptions import InvalidArgumentError

DEFAULT_FRAMEWORK_VERSION = "1.7.2"


class SKLearn:
    def __init__(self, source_directory, *, compute_target=None, vm_size=None, vm_priority=None, entry_script=None,
                 script_params=None, use_docker=True, custom_docker_image=None, image_registry_details=None,
                 user_managed=False, conda_packages=None, pip_packages=None, conda_dependencies_file_path=None,
                 pip_requirements_file_path=None, conda_dependencies_file=None, pip_requirements_file=None,
                 environment_variables=None, environment_definition=None, inputs=None, shm_size=None,
                 resume_from=None, max_run_duration_seconds=None, framework_version=None,
                 _enable_optimized_mode=False, _disable_validation=True, _show_lint_warnings=False,
                 _show_package_warnings=False):
        if entry_script is None:
            raise InvalidArgumentError("SKLearn needs entry_script= (the training script in source_directory).")
        _refuse_unsupported(vm_size=vm_size, vm_priority=vm_priority, image_registry_details=image_registry_details,
                            resume_from=resume_from, use_docker=use_docker)
        for label, value in (("pip_packages", pip_packages), ("conda_packages", conda_packages)):
            if value is not None and (not isinstance(value, (list, tuple)) or
                                      not all(isinstance(p, str) for p in value)):
                raise InvalidArgumentError(f"{label} must be a list of package names, got {value!r}.")
        self.source_directory = source_directory
        self.entry_script = entry_script
        self.arguments = script_params_to_arguments(script_params)
        self.compute_target = compute_target
        self.max_run_duration_seconds = max_run_duration_seconds
        self.framework_version = framework_version or DEFAULT_FRAMEWORK_VERSION
        self.environment = environment_definition or self._environment(
            custom_docker_image, conda_packages, pip_packages, conda_dependencies_file_path or conda_dependencies_file,
            pip_requirements_file_path or pip_requirements_file, environment_variables)
        check_arguments(self.arguments)
        if user_managed:
            self.environment.python.user_managed_dependencies = True
        for reference in inputs or []:
            if not any(reference is a or str(reference) == str(a) for a in self.arguments):
                raise InvalidArgumentError(
                    f"inputs=[{reference!r}]: amlocal hands a datastore path to the script only as an argument; put "
                    "it in script_params (for example {'--data-folder': ds.path('iris').as_mount()}).")

    def _environment(self, custom_docker_image, conda_packages, pip_packages, conda_file, pip_file, variables):
        if conda_file:
            env = Environment.from_conda_specification("amlocal-sklearn", conda_file)
        elif pip_file:
            env = Environment.from_pip_requirements("amlocal-sklearn", pip_file)
        else:
            env = Environment("amlocal-sklearn")
        deps = env.python.conda_dependencies
        deps.add_pip_package(f"scikit-learn=={self.framework_version}")
        for package in pip_packages or []:
            deps.add_pip_package(package)
        for package in conda_packages or []:
            deps.add_conda_package(package)
        env.docker.base_image = custom_docker_image
        env.environment_variables = dict(variables or {})
        return env

    @property
    def run_config(self):
        return self

    def _run_spec(self, experiment_name, tags=None):
        return build_run_spec(experiment_name, self.source_directory, self.entry_script, self.arguments,
                              self.environment, self.compute_target, tags, self.max_run_duration_seconds)


def _refuse_unsupported(vm_size, vm_priority, image_registry_details, resume_from, use_docker):
    """SKLearn arguments amlocal cannot honour raise, naming the argument and the way to do it."""
    if vm_size is not None or vm_priority is not None:
        raise InvalidArgumentError(
            "vm_size=/vm_priority= ask Azure ML for a run-based compute, which amlocal does not create; make a cluster "
            "with ComputeTarget.create(ws, name, AmlCompute.provisioning_configuration(vm_size=..., max_nodes=...)) "
            "and pass compute_target=.")
    if image_registry_details is not None:
        raise InvalidArgumentError("image_registry_details= is not supported: load the image into the local Docker "
                                   "engine and pass custom_docker_image=.")
    if resume_from is not None:
        raise InvalidArgumentError("resume_from= is not supported by amlocal's SKLearn; copy the checkpoint into the "
                                   "source directory or a datastore and pass it as a script parameter.")
    if not use_docker:
        raise InvalidArgumentError("use_docker=False is not supported: choose the process backend to run without "
                                   "Docker (AMLOCAL_BACKEND=process or Workspace.from_config(backend='process')).")
