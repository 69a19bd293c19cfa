"""Errors amlocal raises. Every one says what was wrong and what to do next.

    AmlocalError
    ├── ConfigError                  bad or missing configuration
    │   └── ConfigNotFoundError      no config.json on the search path
    ├── BackendError
    │   ├── UnknownBackendError      a backend name nobody registered
    │   └── BackendUnavailableError  the backend cannot work here (no engine, missing extra, no credentials)
    ├── InvalidArgumentError         (also a ValueError) bad input to an API call
    │   └── EnvironmentNotFoundError
    ├── ComputeTargetException       compute lookup/create failures (azureml's name)
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
