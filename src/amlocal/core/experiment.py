"""Experiment (``azureml.core.Experiment``): a named group of runs; ``submit`` starts one."""

from ..exceptions import InvalidArgumentError
from ..rules.names import validate_name


class Experiment:
    def __init__(self, workspace, name, _skip_name_validation=False, _id=None, _archived_time=None,
                 _create_in_cloud=True, _experiment_dto=None, **kwargs):
        if not _skip_name_validation:
            validate_name("experiment", name)
        self.workspace = workspace
        self.name = name

    def submit(self, config, tags=None, **kwargs):
        """Start a run of ``config`` (a ScriptRunConfig or an SKLearn estimator) and return its Run at
        once; the run goes on without this process."""
        from .run import Run

        if tags is not None and not isinstance(tags, dict):
            raise InvalidArgumentError("tags must be a dict of str to str.")
        if hasattr(config, "_submit_to"):  # a run of its own kind (a HyperDrive sweep)
            return config._submit_to(self, tags)
        if not hasattr(config, "_run_spec"):
            raise InvalidArgumentError(f"Experiment.submit takes a ScriptRunConfig, an estimator such as SKLearn or a "
                                       f"HyperDriveConfig, got {type(config).__name__}.")
        spec = config._run_spec(self.name, tags)
        run_id = self.workspace.backend.submit(spec)
        return Run(self, run_id)

    def start_logging(self, *args, **kwargs):
        """An interactive run in run history, logged from this process; end it with ``complete()``."""
        from .run import Run

        run_id = self.workspace.run_history.start_run(self.name)
        return Run(self, run_id)

    def get_runs(self, type=None, tags=None, properties=None, include_children=False):
        """The experiment's runs, newest first: only those of run ``type`` ("azureml.scriptrun",
        "hyperdrive", ...), carrying the ``tags`` / ``properties`` ("key" or {"key": "value"}),
        top-level ones unless ``include_children``."""
        from ..rules.filters import run_filter_problem
        from .run import Run

        for label, wanted in (("tags", tags), ("properties", properties)):
            problem = run_filter_problem(label, wanted)
            if problem:
                raise InvalidArgumentError(problem)
        records = self.workspace.run_history.list_runs(experiment=self.name, tags=tags, properties=properties)
        for record in records:
            if type is not None and record.get("run_type") != type:
                continue
            if not include_children and record.get("parent_run_id"):
                continue
            yield Run._of_record(self, record)

    def __repr__(self):
        return f"Experiment(Name: {self.name}, Workspace: {self.workspace.name})"
