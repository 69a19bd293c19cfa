"""The commands behind ``amlocal`` (``amlocal.cli`` parses; these modules act).

Each command takes the parsed arguments and returns the exit code; amlocal errors it lets
through become ``amlocal: error: <message>`` and the code ``exit_code_for`` gives. Commands
import ``amlocal.core`` inside their functions so that ``amlocal --help`` and argument errors
stay instant.
"""

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_UNAVAILABLE = 4
EXIT_INTERRUPTED = 130


def exit_code_for(error):
    """The exit code of an error a command let through, most specific type first."""
    from amlocal import exceptions

    if isinstance(error, exceptions.ActivityFailedException):
        return EXIT_RUN_FAILED
    if isinstance(error, (exceptions.RunNotFoundError, exceptions.ModelNotFoundError,
                          exceptions.WebserviceNotFoundError)):
        return EXIT_NOT_FOUND
    from amlocal.core.compute_target import ComputeTargetException

    # Azure ML's own code for a compute target that does not exist (local and azureml backends).
    if isinstance(error, ComputeTargetException) and str(error).startswith("ComputeTargetNotFound"):
        return EXIT_NOT_FOUND
    if isinstance(error, (exceptions.StoreError, exceptions.BackendUnavailableError)):
        return EXIT_UNAVAILABLE
    # ConfigError, UnknownBackendError, InvalidArgumentError, ComputeTargetException, an
    # unreadable file...: the user gave something that cannot work.
    return EXIT_USAGE
