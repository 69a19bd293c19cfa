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


# -- errors of the shared rules (amlocal.rules) ---------------------------------------------
#
#   InvalidArgumentError
#   ├── InvalidNameError             (also rules.errors.InvalidName) a name breaks Azure ML's rule
#   ├── InvalidRunFileNameError      (also rules.errors.InvalidRunFileName)
#   ├── PathOutsideRootError         (also rules.errors.PathOutsideRoot) a path leaves its root
#   │   └── SymlinkRefusedError      (also rules.errors.SymlinkRefused)
#   ├── NotARegularFileError         (also rules.errors.NotARegularFile)
#   └── FileTooLargeError            (also rules.errors.FileTooLarge)
#   InvalidModelNameError            (ModelError) a model name; also rules.errors.InvalidModelName
#   SnapshotException                a snapshot over Azure ML's limits (strict mode), as azureml raises
#
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


class SnapshotException(AmlocalError):
    """A source directory over Azure ML's snapshot limits (300 MB, 2,000 files), raised in the
    strict mode of ``amlocal._local.snapshot`` with azureml's own message
    (``azureml.exceptions.SnapshotException``)."""
