"""Errors amlocal raises. Every one says what was wrong and what to do next.

    AmlocalError
    ├── ConfigError                  bad or missing configuration
    │   └── ConfigNotFoundError      no config.json on the search path
    ├── BackendError
    │   ├── UnknownBackendError      a backend name nobody registered
    │   └── BackendUnavailableError  the backend cannot work here (no engine, missing extra, no credentials)
    ├── InvalidArgumentError         (also a ValueError) bad input to an API call
    ├── ComputeTargetException       (amlocal.core.compute_target) compute lookup/create failures
    ├── RunError
    │   ├── RunNotFoundError
    │   └── ActivityFailedException  a run ended Failed/Canceled and the caller asked to raise
    ├── ModelError
    │   ├── InvalidModelNameError
    │   ├── ModelNotFoundError
    │   └── ModelPathNotFoundException
    ├── EnvironmentBuildError        preparing an environment (image or venv) failed
    └── StoreError                   the local run history / registry database
        ├── StoreCorruptedError
        └── StoreLockedError
"""


class AmlocalError(Exception):
    """Base class of every error amlocal raises on purpose."""


class ConfigError(AmlocalError):
    pass


class ConfigNotFoundError(ConfigError):
    def __init__(self, message, searched=()):
        super().__init__(message)
        self.searched = list(searched)


class BackendError(AmlocalError):
    pass


class UnknownBackendError(BackendError):
    def __init__(self, name, known):
        self.name = name
        self.known = sorted(known)
        super().__init__(
            f"Unknown backend {name!r}. Known backends: {', '.join(self.known) or '(none installed)'}. "
            "Choose one with backend=..., AMLOCAL_BACKEND or the \"backend\" key of config.json."
        )


class BackendUnavailableError(BackendError):
    pass


class InvalidArgumentError(AmlocalError, ValueError):
    pass


class RunError(AmlocalError):
    pass


class RunNotFoundError(RunError):
    pass


class ActivityFailedException(RunError):
    """Raised by ``wait_for_completion`` when the run ends Failed or Canceled (as azureml does)."""

    def __init__(self, run_id, status, error=None):
        self.run_id = run_id
        self.status = status
        self.error = error or {}
        message = self.error.get("message") or "no error message recorded"
        tail = self.error.get("log_tail")
        text = f"Run {run_id} ended {status}: {message}"
        if tail:
            text += "\n--- last lines of the log ---\n" + tail
        super().__init__(text)


RunFailedError = ActivityFailedException


class ModelError(AmlocalError):
    pass


class InvalidModelNameError(ModelError, ValueError):
    pass


class ModelNotFoundError(ModelError):
    pass


class ModelPathNotFoundException(ModelError):
    pass


# azureml raises WebserviceException for model lookups; keep the name available.
WebserviceException = ModelError


class EnvironmentBuildError(AmlocalError):
    def __init__(self, message, log_tail=None):
        super().__init__(message)
        self.log_tail = log_tail


class StoreError(AmlocalError):
    pass


class StoreCorruptedError(StoreError):
    pass


class StoreLockedError(StoreError):
    pass


# Added for sweeps and curated environments (kept at the end of the module):
#   AmlocalError
#   ├── MissingOptionalDependencyError   (also an ImportError) a feature's optional extra is not installed
#   └── HyperDriveException              amlocal.train.hyperdrive
#       └── HyperDriveConfigException    (also an InvalidArgumentError) what the SDK's validation rejects
#           └── HyperDriveScenarioNotSupportedException
#               └── HyperDriveNotImplementedException
#   InvalidArgumentError
#   └── UnknownCuratedEnvironmentError   an AzureML-* environment name with no local definition


class MissingOptionalDependencyError(AmlocalError, ImportError):
    """A feature needs a package from an optional extra that is not installed."""

    def __init__(self, feature, extra, packages):
        self.feature = feature
        self.extra = extra
        self.packages = list(packages)
        super().__init__(
            f"{feature} needs {', '.join(self.packages)}, which {'is' if len(self.packages) == 1 else 'are'} not "
            f"installed. Install the optional extra: pip install 'amlocal[{extra}]'."
        )


class UnknownCuratedEnvironmentError(InvalidArgumentError):
    """An ``AzureML-*`` environment name that amlocal has no local definition for."""

    def __init__(self, name, known):
        self.name = name
        self.known = sorted(known, key=str.lower)
        super().__init__(
            f"Unknown curated environment {name!r}. Curated environments amlocal can build locally: "
            f"{', '.join(self.known)} (names match case-insensitively). Use one of them, or define your own "
            "Environment (names starting with 'AzureML' are reserved for curated environments)."
        )


class HyperDriveException(AmlocalError):
    """Base class of HyperDrive errors (``azureml.train.hyperdrive.exceptions.HyperDriveException``)."""


class HyperDriveConfigException(HyperDriveException, InvalidArgumentError):
    """A sampling, policy, parameter expression or HyperDriveConfig that the SDK would reject."""


class HyperDriveScenarioNotSupportedException(HyperDriveConfigException):
    """A valid configuration that describes a scenario HyperDrive (or amlocal) does not support."""


class HyperDriveNotImplementedException(HyperDriveScenarioNotSupportedException):
    pass
