"""The one execution interface: how a backend runs jobs.

A backend executes runs: it starts one and returns at once, reports its status and details,
and cancels it. It does not keep runs, models, compute targets, datastores or environments:
those are the workspace's stores (``amlocal.stores``), which a backend class opens for a
workspace (``open_stores``) without needing its execution engine, so reading history never
starts Docker or signs in to Azure. What a backend is given is plain data
(``amlocal.specs``): a WorkspaceInfo when it is made, a RunSpec for each run.

Backends are plugins: classes advertised in the ``amlocal.backends`` entry-point group
(``amlocal._plugins``). ``amlocal.local`` is the smaller API for backends that run jobs on
this machine; ``amlocal.testing`` holds the contract suite every backend must pass.
"""

import abc

from .rules import statuses


class ExecutionBackend(abc.ABC):
    """Runs jobs for one workspace. Every method may raise BackendUnavailableError when the
    engine behind the backend cannot be reached, and RunNotFoundError for an unknown run id."""

    #: the name users choose it by (``--backend``, AMLOCAL_BACKEND, config.json "backend")
    name = None
    #: seconds between two status polls of ``wait_for_completion``
    poll_interval = 0.05
    #: the order its runs' statuses move forward in before a final one (skipping is allowed;
    #: CancelRequested may come at any point): Azure ML v1's unless the service behind the
    #: backend documents another (Azure ML SDK v2 jobs do)
    status_order = statuses.ORDER

    def __init__(self, workspace, stores, **options):
        """``workspace`` is a WorkspaceInfo, ``stores`` what ``open_stores`` returned for it;
        ``options`` are the user's ``backend_options``."""
        self.workspace = workspace
        self.stores = stores

    @classmethod
    @abc.abstractmethod
    def open_stores(cls, workspace, **options):
        """The WorkspaceStores this backend's runs are recorded in, for ``workspace`` (a
        WorkspaceInfo). Must not need the execution engine. Raises BackendUnavailableError
        when the stores cannot be opened (missing credentials, say)."""

    @classmethod
    def is_available(cls):
        """Whether jobs can run here now (cheap; used to pick a default backend)."""
        return True

    @abc.abstractmethod
    def submit(self, spec):
        """Start the run ``spec`` (a RunSpec) describes and return its run id without waiting
        for it: the run goes on without the calling process. Raises InvalidArgumentError for a
        spec that cannot run (missing data, unknown compute target), BackendUnavailableError
        when nothing can run here. Either the run exists afterwards and is followed, or the
        call raised and there is no run."""

    @abc.abstractmethod
    def get_status(self, run_id):
        """The run's status now (``amlocal.rules.statuses``). Never blocks for long."""

    @abc.abstractmethod
    def get_details(self, run_id):
        """azureml-shaped details: runId, target, status, startTimeUtc, endTimeUtc, properties,
        runDefinition (script, arguments, environment, target), logFiles, statusTimeline, tags,
        and ``error`` ({"message", "code", "log_tail"}) when it failed or was canceled."""

    @abc.abstractmethod
    def cancel(self, run_id, reason=None):
        """Ask the run to stop; it ends Canceled (``reason``, when given, is the message its
        details' error shows: a sweep's early termination says why). No-op on a finished run."""

    @abc.abstractmethod
    def portal_url(self, run_id):
        """Where a person can look at the run (``Run.get_portal_url``, the "Web View" line)."""

    def web_view_text(self, run_id):
        """The "Web View" line ``wait_for_completion(show_output=True)`` prints: the portal URL,
        with whatever a person needs to know to open it."""
        return self.portal_url(run_id)

    def submit_sweep(self, sweep):
        """Start the HyperDrive sweep ``sweep`` (a SweepSpec) and return its parent run's id at
        once; the parent run (type "hyperdrive") starts children as the sweep goes. Raises
        InvalidArgumentError when this backend cannot run sweeps."""
        from .exceptions import InvalidArgumentError

        raise InvalidArgumentError(
            f"The {self.name!r} backend cannot run HyperDrive sweeps. Submit the HyperDriveConfig on a backend that "
            "can: docker or process (here), or azureml (HyperDrive on Azure ML, SDK v1); or submit its runs one by "
            "one as ScriptRunConfigs.")
