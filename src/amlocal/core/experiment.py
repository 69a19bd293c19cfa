"""Experiment (``azureml.core.Experiment``): a named group of runs; ``submit`` starts one."""

import re

from ..exceptions import InvalidArgumentError

EXPERIMENT_NAME = re.compile(r"^[a-zA-Z0-9][\w\-]{0,254}$")


class Experiment:
    def __init__(self, workspace, name, _skip_name_validation=False, _id=None, _archived_time=None,
                 _create_in_cloud=True, _experiment_dto=None, **kwargs):
        if not _skip_name_validation and (not isinstance(name, str) or not EXPERIMENT_NAME.match(name)):
            raise InvalidArgumentError(
                f"Invalid experiment name {name!r}: use 1-255 letters, digits, '_' or '-', starting with a "
                "letter or digit.")
        self.workspace = workspace
        self.name = name

    def submit(self, config, tags=None, **kwargs):
        """Start a run of ``config`` (a ScriptRunConfig or an SKLearn estimator) and return its Run at
        once; the run goes on without this process."""
        from .run import Run

        if not hasattr(config, "_run_spec"):
            raise InvalidArgumentError(f"Experiment.submit takes a ScriptRunConfig or an estimator such as "
                                       f"SKLearn, got {type(config).__name__}.")
        spec = config._run_spec(self.name, tags)
        backend = self.workspace.backend
        run_id = backend.submit(spec)
        return Run(self, run_id)

    def start_logging(self, *args, **kwargs):
        """An interactive run in run history, logged from this process; end it with ``complete()``."""
        from .run import Run

        run_id = self.workspace.backend_for_data.start_interactive_run(self.name, kwargs.get("snapshot_directory"))
        return Run(self, run_id)

    def get_runs(self, type=None, tags=None, properties=None, include_children=False):
        from .run import Run

        for record in self.workspace.run_history.list_runs(experiment=self.name):
            yield Run(self, record["run_id"])

    def __repr__(self):
        return f"Experiment(Name: {self.name}, Workspace: {self.workspace.name})"
