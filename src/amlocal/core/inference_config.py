"""InferenceConfig (``azureml.core.model.InferenceConfig``): what a web service runs — an entry
script (with its source directory) in an environment — validated as the SDK validates it."""

import ast
import keyword
import logging
import os
import warnings

from ..exceptions import WebserviceException

module_logger = logging.getLogger(__name__)

HOW_TO_USE_ENVIRONMENTS_DOC_URL = "https://docs.microsoft.com/azure/machine-learning/how-to-use-environments"
SUPPORTED_RUNTIMES = ("python", "spark-py")
SUPPORTED_CUDA_VERSIONS = ("9.0", "9.1", "10.0")


class InferenceConfig:
    def __init__(self, entry_script, runtime=None, conda_file=None, extra_docker_file_steps=None,
                 source_directory=None, enable_gpu=None, description=None, base_image=None,
                 base_image_registry=None, cuda_version=None, environment=None):
        self.entry_script = entry_script
        self.runtime = runtime
        self.conda_file = conda_file
        self.extra_docker_file_steps = extra_docker_file_steps
        self.source_directory = source_directory
        self.enable_gpu = enable_gpu
        self.cuda_version = cuda_version
        self.description = description
        self.base_image = base_image
        self.base_image_registry = base_image_registry
        self.environment = environment
        self.validate_configuration()

    def __repr__(self):
        return (f"{type(self).__name__}(entry_script={self.entry_script}, runtime={self.runtime}, "
                f"conda_file={self.conda_file}, extra_docker_file_steps={self.extra_docker_file_steps}, "
                f"source_directory={self.source_directory}, enable_gpu={self.enable_gpu}, "
                f"base_image={self.base_image}, base_image_registry={self.base_image_registry})")

    def validate_configuration(self):
        """The SDK's checks, with its messages; raises WebserviceException."""
        for given, what, anchor in ((self.runtime, "runtime parameter", ""),
                                    (self.conda_file, "conda_file parameter", "#conda-and-pip-packages"),
                                    (self.extra_docker_file_steps, "extra_docker_file_steps parameter",
                                     "#docker-and-environments"),
                                    (self.enable_gpu or self.cuda_version, "enable_gpu and cuda_version parameters",
                                     "#docker-and-environments"),
                                    (self.base_image, "base_image and base_image_registry parameters",
                                     "#example-notebooks")):
            if given:
                warnings.warn(f"{what} has been deprecated and will be removed in a future release. Please migrate to "
                              f"using Environments. {HOW_TO_USE_ENVIRONMENTS_DOC_URL}{anchor}",
                              category=DeprecationWarning, stacklevel=3)
        if not self.entry_script:
            raise WebserviceException("Error, need to specify entry_script.")
        if self.environment:
            if (self.runtime or self.conda_file or self.extra_docker_file_steps or self.enable_gpu or self.cuda_version
                    or self.base_image):
                raise WebserviceException("Error, unable to provide runtime, conda_file, extra_docker_file_steps, "
                                          "enable_gpu, cuda_version, or base_image along with an environment object.")
            deps = self.environment.python.conda_dependencies
            if deps is not None and not any("azureml-defaults" in p for p in deps.pip_packages):
                module_logger.warning("Warning, azureml-defaults not detected in provided environment pip "
                                      "dependencies. The azureml-defaults package contains requirements for the "
                                      "inference stack to run, and should be included.")
            if getattr(self.environment.docker, "base_dockerfile", None) and self.environment.docker.base_image:
                raise WebserviceException("Error, only one of base_dockerfile or base_image should be provided to the "
                                          "environment.docker object.")
        if self.source_directory:
            self.source_directory = os.path.realpath(self.source_directory)
            _must_exist(self.source_directory, "source directory")
        _must_exist(self.entry_script_path, "entry_script",
                    "entry_script should be path relative to current working directory")
        script_name, extension = os.path.splitext(os.path.basename(self.entry_script))
        if extension != ".py":
            raise WebserviceException("Invalid driver type. Currently only Python drivers are supported.")
        if not script_name.isidentifier() or keyword.iskeyword(script_name):
            raise WebserviceException(
                f'Error, invalid name "{script_name}" for provided entry script. The script must be importable as a '
                "valid python module, and must adhere to standard module naming. This means it must be a valid "
                "python identifier and not a part of the set of python standard keywords.")
        if self.runtime and self.runtime.lower() not in SUPPORTED_RUNTIMES:
            raise WebserviceException("Provided runtime not supported. Possible runtimes are: python|spark-py")
        if self.cuda_version is not None and str(self.cuda_version).lower() not in SUPPORTED_CUDA_VERSIONS:
            raise WebserviceException("Provided cuda_version not supported. Possible cuda_versions are: "
                                      + "|".join(SUPPORTED_CUDA_VERSIONS))
        if self.conda_file:
            _must_exist(_join(self.source_directory, self.conda_file), "Conda file")
        if self.extra_docker_file_steps:
            _must_exist(_join(self.source_directory, self.extra_docker_file_steps), "extra docker file steps")
        self.validation_script_content()

    def validation_script_content(self):
        """The entry script must parse as Python (raises WebserviceException, as the SDK's
        UserErrorException, with the syntax error)."""
        path = self.entry_script_path
        try:
            with open(path, "r", encoding="utf-8") as script:
                contents = script.read()
        except (OSError, UnicodeDecodeError):
            raise WebserviceException(f"Failed to open {path}, please check if it exists and the read permission. "
                                      "We can not deploy the model if we can not access this file.")
        try:
            ast.parse(contents, path)
        except (SyntaxError, ValueError) as ex:
            raise WebserviceException(f"{ex}. Please check it and try local deployment to verify.")

    @property
    def entry_script_path(self):
        """Where the entry script is on this machine."""
        return _join(self.source_directory, self.entry_script)

    def _environment_spec(self, service_name):
        """The EnvironmentSpec to serve in: the environment given, else one made of the
        conda_file / base_image parts (as the SDK's convert_parts_to_environment does)."""
        from .environment import Environment

        if self.environment is not None:
            return self.environment._spec()
        if self.conda_file:
            env = Environment.from_conda_specification(f"{service_name}-env",
                                                       _join(self.source_directory, self.conda_file))
        else:
            env = Environment(f"{service_name}-env")
        if self.base_image:
            env.docker.base_image = self.base_image
        return env._spec()


def _join(source_directory, path):
    if path and source_directory:
        return os.path.join(source_directory, path).replace(os.sep, "/")
    return path


def _must_exist(path, name, extra_message=""):
    if not os.path.exists(os.path.normpath(path)):
        raise WebserviceException(f"{name} {os.path.normpath(path)} doesn't exist. {extra_message}")
