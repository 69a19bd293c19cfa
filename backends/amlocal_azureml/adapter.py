"""``AzureAdapter``: the one seam between the azureml backend and Azure ML.

Everything the backend, its run history and its registry need from Azure goes through these
methods and nothing else; ``sdk_adapter.SdkAzureAdapter`` implements them over the real
azureml-core SDK, ``fake.FakeAzureAdapter`` over local state, so the same backend code runs
against either. Contracts shared by both:

* Arguments and results are plain Python values (str, int, dicts, lists), except where a real
  azureml object is named: ``submit`` takes a real ``azureml.core.ScriptRunConfig``,
  ``create_compute`` a real ``AmlComputeProvisioningConfiguration``, ``get_datastore`` returns a
  real azureml datastore (``translate`` builds those).
* Errors are the real SDK's exception types (``azureml.exceptions.*``,
  ``azureml._restclient.exceptions.ServiceException``) with the SDK's messages; the backend maps
  them to amlocal's (``errors.sdk_errors``).
* Run statuses are Azure ML's strings, in the order Azure documents for AmlCompute
  (``amlocal.rules.statuses.AMLCOMPUTE_ORDER``): NotStarted, Starting, Preparing, Queued,
  Running, Finalizing, then Completed, Failed or Canceled ("CancelRequested" may come between);
  a poller may miss some, never reorder them.
* A run record (``get_run``, ``list_runs``) is a dict with run_id, experiment, status, created,
  start_time, end_time (epoch seconds or None), script, arguments, compute_target, tags, and
  error: None or Azure's error shape ``{"error": {"code": ..., "message": ..., ...}}``; a listed
  one also has properties.
* A model record is a dict with name, version (int), run_id, tags, properties, description,
  created_time (epoch seconds), model_framework, model_framework_version, url.
* An environment crosses as an ``amlocal.specs.EnvironmentSpec``.
* A compute record is a dict with name, type, vm_size, vm_priority, min_nodes, max_nodes,
  provisioning_state.
"""

import abc
import re

#: The logs Azure ML streams while a run goes (azureml.core.script_run.ScriptRun._output_logs_pattern).
#: A HyperDrive parent run streams its own log (azureml.train.hyperdrive.HyperDriveRun._output_logs_pattern).
STREAMED_LOG = re.compile(r"(user_logs/std_log[\D]*[0]*(?:_ps)?\.txt)|(azureml-logs/[\d]{2}.+\.txt)"
                          r"|(azureml-logs/hyperdrive\.txt)")


class AzureAdapter(abc.ABC):
    #: seconds between two status polls of ``wait_for_completion``
    poll_interval = 5.0

    # -- compute -------------------------------------------------------------------------
    @abc.abstractmethod
    def get_compute(self, name):
        """The compute record of cluster ``name``. Raises ComputeTargetException
        ("ComputeTargetNotFound: ...") when the workspace has none of that name."""

    @abc.abstractmethod
    def create_compute(self, name, provisioning_configuration):
        """Start creating (or updating) cluster ``name``; returns its record at once, usually
        provisioning_state "Creating". Raises ComputeTargetException on a bad response
        (unknown vm size, quota)."""

    @abc.abstractmethod
    def wait_for_compute(self, name, show_output=False, timeout_in_minutes=25):
        """Block until provisioning of ``name`` ends; return its record. Raises
        ComputeTargetException when provisioning ended Failed."""

    @abc.abstractmethod
    def list_computes(self):
        """Compute records of every cluster of the workspace."""

    # -- datastores ------------------------------------------------------------------------
    @abc.abstractmethod
    def list_datastores(self):
        """Names of the workspace's datastores."""

    @abc.abstractmethod
    def get_datastore(self, name):
        """The real azureml datastore object ``name`` (for DataReference). Raises when unknown."""

    @abc.abstractmethod
    def upload_files(self, datastore_name, files, overwrite=False, show_progress=True):
        """Upload [(local path, path in the datastore)]; existing ones are skipped unless
        ``overwrite``. Returns the number uploaded."""

    @abc.abstractmethod
    def download_files(self, datastore_name, target_path, prefix=None, overwrite=False, show_progress=True):
        """Download the files under ``prefix`` into ``target_path``; returns the number downloaded."""

    @abc.abstractmethod
    def list_datastore_files(self, datastore_name, prefix=None):
        """Sorted paths of the files under ``prefix``."""

    @abc.abstractmethod
    def datastore_path_exists(self, datastore_name, path):
        """Whether ``path`` (a file or a folder; "" or None is the root) holds any file."""

    # -- environments ---------------------------------------------------------------------------
    @abc.abstractmethod
    def register_environment(self, environment):
        """Register a real azureml Environment; returns its new version (str)."""

    @abc.abstractmethod
    def get_environment(self, name, version=None):
        """The EnvironmentSpec of a registered or curated environment (a curated one has
        ``curated`` True). Raises EnvironmentNotFoundError."""

    @abc.abstractmethod
    def get_sdk_environment(self, name):
        """The real azureml Environment ``name`` (latest version), to submit with as it is."""

    @abc.abstractmethod
    def list_environments(self):
        """{name: EnvironmentSpec} of the workspace's environments, curated ones included."""

    # -- runs --------------------------------------------------------------------------------
    @abc.abstractmethod
    def submit(self, experiment, script_run_config, tags=None, run_id=None, parent_run_id=None):
        """Submit a real ScriptRunConfig to ``experiment``; return the run id at once. ``run_id`` /
        ``parent_run_id`` name a sweep's child (only a fake runs sweeps on the client side; the
        service makes a HyperDrive run's children itself)."""

    @abc.abstractmethod
    def submit_hyperdrive(self, experiment, hyperdrive_config, tags=None, sweep=None, backend=None):
        """Submit a real ``azureml.train.hyperdrive.HyperDriveConfig``; return the parent run's id
        at once. ``sweep`` (the SweepSpec it was made from) and ``backend`` (the AzureMLBackend)
        are for a fake, which runs the sweep as the service would; the real service ignores them."""

    @abc.abstractmethod
    def get_status(self, run_id):
        """The run's status now. Cheap; never blocks for long."""

    @abc.abstractmethod
    def get_run(self, run_id):
        """The run record (see the module docstring). Raises ServiceException (404) when unknown."""

    @abc.abstractmethod
    def get_details(self, run_id):
        """Azure's ``run.get_details()`` dict: runId, target, status, startTimeUtc, endTimeUtc,
        properties, runDefinition, logFiles, and error when the run failed."""

    @abc.abstractmethod
    def status_timeline(self, run_id):
        """[(status, epoch seconds)] as far as known, oldest first."""

    @abc.abstractmethod
    def list_runs(self, experiment=None, limit=None):
        """Run records, newest first, optionally of one experiment: from the run history's bulk
        listing (a call per page of runs), never a call per run."""

    @abc.abstractmethod
    def list_experiments(self):
        """Names of the workspace's experiments, sorted."""

    @abc.abstractmethod
    def cancel(self, run_id, reason=None):
        """Ask the run to stop (it ends Canceled); no-op on a finished run. ``reason``: why (an
        early termination); the service records its own, a fake shows this one."""

    @abc.abstractmethod
    def start_logging(self, experiment, snapshot_directory=None):
        """Create a Running run logged from this process (Experiment.start_logging); its id."""

    @abc.abstractmethod
    def end_run(self, run_id, status, error=None):
        """End a run made by start_logging: ``status`` Completed or Failed (with ``error``
        {"message", "code"})."""

    @abc.abstractmethod
    def portal_url(self, run_id):
        """The run's page in Azure ML studio."""

    # -- what a run recorded -------------------------------------------------------------------
    @abc.abstractmethod
    def log_metric(self, run_id, name, value, kind="scalar", step=None, description=""):
        """Log one metric (kind: scalar, list, row, table, image, confusion_matrix)."""

    @abc.abstractmethod
    def get_metrics(self, run_id, name=None, populate=False):
        """``run.get_metrics()``, shaped by ``amlocal.rules.metrics``."""

    @abc.abstractmethod
    def set_tags(self, run_id, tags):
        """Merge ``tags`` into the run's tags."""

    @abc.abstractmethod
    def get_tags(self, run_id):
        """The run's tags."""

    @abc.abstractmethod
    def list_files(self, run_id):
        """Sorted names of the run's files (``run.get_file_names()``)."""

    @abc.abstractmethod
    def download_file(self, run_id, name, output_file_path):
        """Write run file ``name`` to ``output_file_path``."""

    @abc.abstractmethod
    def upload_file(self, run_id, name, path_or_stream):
        """Add a file to the run under ``name``."""

    @abc.abstractmethod
    def log_names(self, run_id):
        """Names of the run's logs that Azure ML streams (azureml-logs/NN_*.txt,
        user_logs/std_log.txt), in the order they are written."""

    @abc.abstractmethod
    def read_log(self, run_id, name):
        """The whole text of log ``name`` so far ("" when it does not exist yet)."""

    # -- models --------------------------------------------------------------------------------
    @abc.abstractmethod
    def delete_model(self, name, version):
        """Delete one version of a model."""

    @abc.abstractmethod
    def register_model(self, name, model_path, tags=None, properties=None, description=None,
                       model_framework=None, model_framework_version=None):
        """Upload a local file or folder as the next version of model ``name``; its model record."""

    @abc.abstractmethod
    def register_model_from_run(self, run_id, name, model_path, tags=None, properties=None, description=None,
                                model_framework=None, model_framework_version=None):
        """``run.register_model``: register the run's file or folder ``model_path``. Raises
        ModelPathNotFoundException when the run has no such file."""

    @abc.abstractmethod
    def get_model(self, name, version=None):
        """The model record of ``version`` (latest when None). Raises WebserviceException
        ("ModelNotFound: ...") when there is none."""

    @abc.abstractmethod
    def list_models(self, name=None, tags=None, properties=None, run_id=None, latest=False):
        """Model records matching every filter, newest version first."""

    @abc.abstractmethod
    def download_model(self, name, version, target_dir, exist_ok=False):
        """Download the model's files into ``target_dir``; the path of its file or folder.
        Raises WebserviceException ("File already exists ...") unless ``exist_ok``."""

    # -- web services (ACI) ----------------------------------------------------------------------
    # A service record is a dict with name, state (ACI's: Transitioning, Healthy, Unhealthy,
    # Failed), port (None on Azure), created, updated (epoch seconds), error, spec (the amlocal
    # ServiceSpec as a dict), scoring_uri.
    def deploy_service(self, name, model_ids, inference_config, deployment_config, local_spec=None):
        """``Model.deploy`` of the real ``InferenceConfig`` and ``AciServiceDeploymentConfiguration``
        (``local_spec``: the same service as amlocal describes it). Returns its record at once."""
        raise NotImplementedError(f"{type(self).__name__} does not deploy web services")

    def wait_service(self, name, timeout):
        """Block until the service is Healthy (its record) or raise WebserviceException."""
        raise NotImplementedError(f"{type(self).__name__} does not deploy web services")

    def get_service(self, name):
        """The service's record, or None."""
        return None

    def list_services(self):
        return []

    def service_logs(self, name, num_lines=5000):
        raise NotImplementedError(f"{type(self).__name__} does not deploy web services")

    def delete_service(self, name):
        raise NotImplementedError(f"{type(self).__name__} does not deploy web services")
