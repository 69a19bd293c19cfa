"""The one backend interface, and the description of a run handed to it.

A backend is about execution: prepare an environment, start a run and return at once,
report status, cancel. Run history and the model registry are separate interfaces
(``amlocal.run_history``, ``amlocal.model_registry``) that each backend opens for a workspace.
Backends are plugins found through the ``amlocal.backends`` entry-point group (``amlocal._plugins``).
"""

import abc
from dataclasses import dataclass, field


@dataclass
class RunSpec:
    """What a submitted run is: built by ``Experiment.submit`` from a ScriptRunConfig or SKLearn."""

    experiment: str
    source_directory: str
    script: str
    arguments: list            # str, or DataReference (resolved by the backend)
    environment: object        # amlocal.core.Environment
    compute_target: str = None  # a compute target name; None runs on the local machine, unbounded
    tags: dict = field(default_factory=dict)
    max_run_duration_seconds: int = None
    run_type: str = "azureml.scriptrun"


class Backend(abc.ABC):
    """Runs jobs for one workspace. Implementations must not block in ``submit``."""

    #: the name users choose it by (``--backend``, AMLOCAL_BACKEND, config.json "backend")
    name = None

    def __init__(self, workspace):
        self.workspace = workspace

    # -- stores --------------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def run_history(self):
        """The RunHistory that records this backend's runs."""

    @property
    @abc.abstractmethod
    def model_registry(self):
        """The ModelRegistry of this backend's workspace."""

    # -- execution -----------------------------------------------------------------------
    @abc.abstractmethod
    def submit(self, spec):
        """Start the run described by ``spec`` and return its run id at once. The run goes on
        without the calling process. Raises InvalidArgumentError for bad specs and
        BackendUnavailableError when the backend cannot run anything here."""

    @abc.abstractmethod
    def get_status(self, run_id):
        """The run's current status string (azureml's vocabulary). Never blocks for long."""

    @abc.abstractmethod
    def get_details(self, run_id):
        """azureml-shaped details: runId, status, startTimeUtc, endTimeUtc, target,
        runDefinition, logFiles, and ``error`` ({"message", "log_tail"}) when it failed."""

    @abc.abstractmethod
    def cancel(self, run_id):
        """Ask the run to stop; it ends Canceled. No-op on a finished run."""

    @abc.abstractmethod
    def portal_url(self, run_id):
        """Where a person can look at the run (the "Web View" line): a URL or a local file."""

    @abc.abstractmethod
    def start_interactive_run(self, experiment, snapshot_directory=None):
        """Create a Running run logged from the calling process (Experiment.start_logging); returns its id."""

    @abc.abstractmethod
    def end_interactive_run(self, run_id, status, error=None):
        """End a run made by start_interactive_run with Completed or Failed."""

    # -- compute targets -----------------------------------------------------------------
    @abc.abstractmethod
    def get_compute(self, name):
        """The compute target's description dict (name, type, vm_size, max_nodes, min_nodes,
        provisioning_state). Raises ComputeTargetException when there is none of that name."""

    @abc.abstractmethod
    def create_compute(self, name, provisioning_configuration):
        """Create (or update) a compute target; returns its description dict."""

    @abc.abstractmethod
    def wait_for_compute(self, name, show_output=False, timeout_in_minutes=25):
        """Block until provisioning ends; returns the description dict."""

    # -- datastores ----------------------------------------------------------------------
    @abc.abstractmethod
    def datastore_upload(self, datastore_name, files, overwrite=False, show_progress=True):
        """Upload [(local path, path in datastore)]; returns the count uploaded."""

    @abc.abstractmethod
    def datastore_download(self, datastore_name, target_path, prefix=None, overwrite=False,
                           show_progress=True):
        """Download the datastore's files under ``prefix`` into ``target_path``; returns the count."""

    @abc.abstractmethod
    def datastore_list(self, datastore_name, prefix=None):
        """Sorted paths of the files in the datastore under ``prefix``."""

    # -- reads for the command line ------------------------------------------------------------
    def list_computes(self):
        """Description dicts (as ``get_compute``) of every compute target, by name. A backend
        that cannot list them raises BackendError saying so."""
        from .exceptions import BackendError

        raise BackendError(f"The {self.name} backend cannot list compute targets; "
                           "`amlocal compute show NAME` shows one.")
