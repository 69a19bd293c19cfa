"""``AzureMLV2Adapter``: the one seam between the ``azureml-v2`` backend and Azure ML (SDK v2).

Everything the backend, its run history and its registry need from Azure goes through these
methods; ``sdk_adapter.SdkV2Adapter`` implements them over ``azure-ai-ml`` (MLClient) and MLflow,
``fake.FakeV2Adapter`` over local state, so the same backend code runs against either.
Contracts shared by both:

* Arguments and results are plain values (str, int, float, dicts, lists), except three real
  azure-ai-ml entities that ``translate`` builds: ``submit`` takes a ``Command`` (from
  ``azure.ai.ml.command()``), ``create_compute`` an ``AmlCompute``, ``create_model`` a ``Model``.
* Errors are the SDK's own types: ``azure.core.exceptions`` (ResourceNotFoundError,
  HttpResponseError with the service's error code, ClientAuthenticationError,
  ServiceRequestError / ServiceResponseError for the network), ``azure.ai.ml.exceptions``
  (ValidationException, JobException, ...), ``mlflow.exceptions.MlflowException``; the backend
  maps them to amlocal's (``errors.sdk_errors``).
* No method blocks for long except ``wait_for_compute``: each is one page of calls at most,
  every call with a connect and a read timeout.
* Job statuses are SDK v2's (``azure.ai.ml``'s REST ``JobStatus``), in the order the service
  documents them (``STATUS_ORDER``): NotStarted, Starting, Provisioning, Preparing, Queued,
  Running, Finalizing, then Completed, Failed or Canceled (CancelRequested may come between;
  NotResponding and Paused are reported as they come).
* A job record (``get_job``, ``list_jobs``) is a dict: name (the run id), experiment,
  display_name, status, created, start_time, end_time (epoch seconds or None), command, compute,
  tags, properties, and error: None or {"code", "message"}.
* A model record: name, version (int), job_name (the run id it came from, or None), tags,
  properties, description, created_time (epoch seconds), path (its azureml:// address), id.
* A compute record: name, type, vm_size, vm_priority ("dedicated" / "lowpriority"), min_nodes,
  max_nodes, provisioning_state ("Creating", "Succeeded", "Failed", ...).
* An environment comes back as an ``amlocal.specs.EnvironmentSpec`` (``curated`` for Azure's own).
"""

import abc
import re

#: SDK v2's job statuses before a final one, in the service's documented order (the REST
#: ``JobStatus`` enum of azure.ai.ml._restclient.arm_ml_service.models: Provisioning is "not used
#: currently"). Azure ML v1 (``amlocal.rules.statuses.ORDER``) has Queued before Preparing and
#: Starting; SDK v2 jobs start, prepare, then queue for nodes.
STATUS_ORDER = ("NotStarted", "Starting", "Provisioning", "Preparing", "Queued", "Running", "Finalizing")

#: The logs ``jobs.stream`` prints (azure.ai.ml.constants._job.job.JobLogPattern): the common
#: runtime's user log of the primary node, else the legacy runtime's azureml-logs/NN_*.txt.
STREAMED_LOG = re.compile(r"user_logs/std_log[\D]*[0]*(?:_ps)?\.txt")
LEGACY_STREAMED_LOG = re.compile(r"azureml-logs/[\d]{2}.+\.txt")


def streamed_logs(names):
    """The logs to stream, in the order ``jobs.stream`` takes them (sorted by name)."""
    names = list(names)
    chosen = [n for n in names if STREAMED_LOG.match(n)] or [n for n in names if LEGACY_STREAMED_LOG.match(n)]
    return sorted(chosen)


class AzureMLV2Adapter(abc.ABC):
    #: seconds between two status polls of ``wait_for_completion``
    poll_interval = 5.0

    # -- jobs --------------------------------------------------------------------------------
    @abc.abstractmethod
    def submit(self, job):
        """Create the job (``jobs.create_or_update``: uploads its code, registers its anonymous
        environment) and return its name at once, without waiting for it to start."""

    @abc.abstractmethod
    def get_status(self, name):
        """The job's status now (one call). ResourceNotFoundError when there is no such job."""

    @abc.abstractmethod
    def get_job(self, name):
        """The job record (see the module docstring). ResourceNotFoundError when unknown."""

    @abc.abstractmethod
    def get_details(self, name):
        """The run history's view of the job (what ``run.get_details()`` shows): runId, status,
        target, startTimeUtc, endTimeUtc, properties, logFiles (names only), warnings, and error
        ({"code", "message"}) when it failed."""

    @abc.abstractmethod
    def list_jobs(self, experiment=None, limit=None):
        """Job records, newest first, of one experiment or all: one paged listing (no call per
        job), so 500 jobs cost one page of calls."""

    @abc.abstractmethod
    def list_experiments(self):
        """Names of the experiments that have jobs, sorted."""

    @abc.abstractmethod
    def cancel(self, name):
        """Ask the job to stop (``jobs.begin_cancel``; not waiting for it); no-op on a finished job."""

    @abc.abstractmethod
    def studio_url(self, name):
        """The job's page in Azure ML studio."""

    # -- logs ------------------------------------------------------------------------------------
    @abc.abstractmethod
    def log_names(self, name):
        """Names of the job's log files so far (all of them; ``streamed_logs`` picks the ones to show)."""

    @abc.abstractmethod
    def read_log(self, name, log_name, offset=0):
        """The bytes of log ``log_name`` from byte ``offset`` on (b"" when nothing new or no such log
        yet). Never blocks: one ranged request."""

    # -- what the job's MLflow run holds -------------------------------------------------------
    @abc.abstractmethod
    def metric_histories(self, name):
        """Every numeric metric of the job's MLflow run: {key: [(step, timestamp ms, value), ...]}."""

    @abc.abstractmethod
    def get_tags(self, name):
        """The job's tags (its MLflow run's tags without MLflow's own ``mlflow.*`` keys)."""

    @abc.abstractmethod
    def list_artifacts(self, name, path=""):
        """Sorted paths of the job's files (its MLflow run's artifacts: outputs/, logs/, what the
        script uploaded) under ``path``, recursively."""

    @abc.abstractmethod
    def download_artifact(self, name, path, target_file):
        """Write the job's file ``path`` to ``target_file``."""

    @abc.abstractmethod
    def log_metric(self, name, key, value, step):
        """Log one numeric value on the job's MLflow run (MlflowClient.log_metric)."""

    @abc.abstractmethod
    def log_batch(self, name, items):
        """Log [(key, value, step)] at once (MlflowClient.log_batch)."""

    @abc.abstractmethod
    def log_dict(self, name, dictionary, artifact_file):
        """Write ``dictionary`` as the JSON artifact ``artifact_file`` (MlflowClient.log_dict)."""

    @abc.abstractmethod
    def set_tag(self, name, key, value):
        """Set one tag on the job (MlflowClient.set_tag)."""

    @abc.abstractmethod
    def log_artifact(self, name, local_path, artifact_path=None):
        """Upload a local file into the job's artifacts under ``artifact_path`` (MlflowClient.log_artifact)."""

    @abc.abstractmethod
    def start_run(self, experiment):
        """An MLflow run in ``experiment`` logged from this process (Experiment.start_logging); its id."""

    @abc.abstractmethod
    def end_run(self, name, status):
        """End a run made by ``start_run``: status Completed, Failed or Canceled."""

    # -- models ----------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_model(self, model):
        """Register ``model`` (an azure-ai-ml ``Model`` without a version: the next one); its record."""

    @abc.abstractmethod
    def get_model(self, name, version=None):
        """The model record of ``version`` (the latest when None). ResourceNotFoundError when none."""

    @abc.abstractmethod
    def list_models(self, name=None):
        """Model records, every version (of ``name`` or of all models), newest version first per name."""

    @abc.abstractmethod
    def download_model(self, name, version, target_dir):
        """Download the model's files into ``target_dir`` in SDK v1's layout: ``target_dir/<the
        registered file or folder's own name>``; returns that path."""

    @abc.abstractmethod
    def delete_model(self, name, version):
        """Take one version out of the registry: it is no longer listed nor "latest", and its number
        is never given again. ResourceNotFoundError when there is no such version."""

    # -- environments ----------------------------------------------------------------------------
    @abc.abstractmethod
    def register_environment(self, environment):
        """Register ``environment`` (an azure-ai-ml ``Environment`` with a name and no version: the
        next one); returns the new version (str)."""

    @abc.abstractmethod
    def get_environment(self, name, version=None):
        """The EnvironmentSpec of ``version`` (the latest when None) of a registered or curated
        environment. ResourceNotFoundError when there is none."""

    @abc.abstractmethod
    def list_environments(self):
        """{name: EnvironmentSpec of its latest version} of the workspace's environments, curated
        ones included."""

    # -- compute -----------------------------------------------------------------------------------
    @abc.abstractmethod
    def get_compute(self, name):
        """The compute record. ResourceNotFoundError when the workspace has none of that name."""

    @abc.abstractmethod
    def create_compute(self, compute):
        """Start creating or updating ``compute`` (an ``AmlCompute``: ``begin_create_or_update``);
        its record at once, usually provisioning_state "Creating"."""

    @abc.abstractmethod
    def wait_for_compute(self, name, show_output=False, timeout_in_minutes=25):
        """Block until provisioning of ``name`` ends; its record. HttpResponseError when it failed."""

    @abc.abstractmethod
    def list_computes(self):
        """Compute records of every AmlCompute cluster of the workspace."""

    # -- datastores --------------------------------------------------------------------------------
    @abc.abstractmethod
    def list_datastores(self):
        """Names of the workspace's datastores."""

    @abc.abstractmethod
    def upload_files(self, datastore, files, overwrite=False, show_progress=True):
        """Upload [(local path, path in the datastore)] to exactly those paths; existing ones are
        skipped unless ``overwrite``. Returns the number uploaded."""

    @abc.abstractmethod
    def download_files(self, datastore, target_path, prefix=None, overwrite=False, show_progress=True):
        """Download the files under ``prefix`` into ``target_path`` (same relative paths, never
        outside it); returns the number downloaded."""

    @abc.abstractmethod
    def list_datastore_files(self, datastore, prefix=None):
        """Sorted paths of the files under ``prefix``."""

    @abc.abstractmethod
    def datastore_path_kind(self, datastore, path):
        """"file" when ``path`` is one file, "folder" when files are under it, None when neither."""
