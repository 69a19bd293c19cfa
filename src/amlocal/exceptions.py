"""Errors amlocal raises. Every one says what was wrong and what to do next.

    AmlocalError
    ├── ConfigError                  bad or missing configuration
    │   └── ConfigNotFoundError      no config.json on the search path
    ├── BackendError
    │   ├── UnknownBackendError      a backend name nobody registered
    │   ├── BackendUnavailableError  the backend cannot work here (no engine, missing extra, no credentials)
    │   └── EngineError              (amlocal_docker) the Docker engine answered with an error
    ├── MissingOptionalDependencyError  (also an ImportError) a feature's optional extra is not installed
    ├── InvalidArgumentError         (also a ValueError) bad input to an API call
    │   ├── InvalidNameError         a name breaks Azure ML's rule (also rules.errors.InvalidName)
    │   ├── InvalidRunFileNameError  (also rules.errors.InvalidRunFileName)
    │   ├── PathOutsideRootError     a path leaves its root (also rules.errors.PathOutsideRoot)
    │   │   └── SymlinkRefusedError
    │   ├── NotARegularFileError
    │   ├── FileTooLargeError
    │   ├── SnapshotException        a source directory over Azure ML's snapshot limits (azureml's name)
    │   ├── EnvironmentNotFoundError
    │   │   └── UnknownCuratedEnvironmentError  an AzureML-* name with no local definition
    │   └── HyperDriveConfigException  (also a HyperDriveException) what the SDK's validation rejects
    │       └── HyperDriveScenarioNotSupportedException
    │           └── HyperDriveNotImplementedException
    ├── HyperDriveException          amlocal.train.hyperdrive
    ├── ComputeTargetException       compute lookup/create failures (azureml's name)
    ├── RunError
    │   ├── RunNotFoundError
    │   └── ActivityFailedException  a run ended Failed and the caller asked to raise
    ├── WebserviceException          azureml's name for model and web service errors
    │   ├── ModelError
    │   │   ├── InvalidModelNameError
    │   │   ├── ModelNotFoundError
    │   │   └── ModelPathNotFoundException
    │   └── WebserviceNotFoundError  no service of that name
    ├── EnvironmentBuildError        preparing an environment (image or venv) failed

    └── StoreError                   the local run history / registry database
        ├── StoreCorruptedError
        ├── StoreFullError
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
    """Raised by ``wait_for_completion`` when the run ended Failed (as azureml does: its message
    is "Activity Failed:" and the run's error as JSON). ``run_id``, ``status`` and ``error``
    (the details' error dict) say which run and why."""

    def __init__(self, error_details, run_id=None, status=None, error=None, **kwargs):
        super().__init__(f"Activity Failed:\n{error_details}")
        self.error_details = error_details
        self.run_id = run_id
        self.status = status
        self.error = error or {}

    @classmethod
    def of_run(cls, run_id, status, error):
        import json

        error = error or {}
        shown = {k: v for k, v in error.items() if k != "log_tail"} or \
            "Detailed error not set on the Run. Please check the logs for details."
        details = json.dumps(shown, indent=4)
        if error.get("log_tail"):
            details += "\n--- last lines of the log ---\n" + error["log_tail"]
        return cls(details, run_id=run_id, status=status, error=error)


RunFailedError = ActivityFailedException


class WebserviceException(AmlocalError):
    """azureml's ``WebserviceException``: model lookups and web services (deploy, score, logs).
    ``message`` is the text; ``status_code`` the HTTP status when a service answered with an
    error; ``log_tail``, when set, the end of the service's log. (Arguments pass on unchanged:
    the rule errors that are also model errors take their own.)"""

    def __init__(self, *args, status_code=None, logger=None, log_tail=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.status_code = status_code
        self.log_tail = log_tail

    @property
    def message(self):
        return str(self)


class WebserviceNotFoundError(WebserviceException):
    pass


class ModelError(WebserviceException):
    pass


class InvalidModelNameError(ModelError, ValueError):
    pass


class ModelNotFoundError(ModelError):
    pass


class ModelPathNotFoundException(ModelError):
    pass


class EnvironmentNotFoundError(InvalidArgumentError):
    """No environment of that name (or version) in the workspace."""


class ComputeTargetException(AmlocalError):
    """azureml's name (``azureml.core.compute_target``) for compute lookup and create failures."""

    def __init__(self, exception_message, **kwargs):
        super().__init__(exception_message)
        self.message = exception_message


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


class StoreFullError(StoreError):
    """The disk holding the workspace is full."""


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


class UnknownCuratedEnvironmentError(EnvironmentNotFoundError):
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


# -- errors of the shared rules (amlocal.rules) ---------------------------------------------
# amlocal.rules is stdlib-only (it is copied into jobs) and raises rules.errors classes; these
# subclasses are registered with it below, so on the host every violation it raises is also an
# InvalidArgumentError (see amlocal/rules/errors.py for why it is done this way).

from .rules import errors as _rule_errors  # noqa: E402


class InvalidNameError(InvalidArgumentError, _rule_errors.InvalidName):
    pass


class _InvalidModelNameRule(InvalidModelNameError, InvalidArgumentError, _rule_errors.InvalidModelName):
    pass


class InvalidRunFileNameError(InvalidArgumentError, _rule_errors.InvalidRunFileName):
    pass


class PathOutsideRootError(InvalidArgumentError, _rule_errors.PathOutsideRoot):
    pass


class SymlinkRefusedError(PathOutsideRootError, _rule_errors.SymlinkRefused):
    pass


class NotARegularFileError(InvalidArgumentError, _rule_errors.NotARegularFile):
    pass


class FileTooLargeError(InvalidArgumentError, _rule_errors.FileTooLarge):
    pass


_rule_errors.register_host_classes({
    _rule_errors.InvalidName: InvalidNameError,
    _rule_errors.InvalidModelName: _InvalidModelNameRule,
    _rule_errors.InvalidRunFileName: InvalidRunFileNameError,
    _rule_errors.PathOutsideRoot: PathOutsideRootError,
    _rule_errors.SymlinkRefused: SymlinkRefusedError,
    _rule_errors.NotARegularFile: NotARegularFileError,
    _rule_errors.FileTooLarge: FileTooLargeError,
})


class SnapshotException(InvalidArgumentError):
    """A source directory over Azure ML's snapshot limits (300 MB, 2,000 files), raised in the
    strict mode of ``amlocal.snapshot`` with azureml's own message
    (``azureml.exceptions.SnapshotException``)."""
