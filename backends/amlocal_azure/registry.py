"""The part of amlocal's ModelRegistry over an Azure ML adapter that does not depend on the SDK.

Records are amlocal ModelRecords (name, version, run_id, tags, ...), the shape the local
registry returns; Azure numbers the versions of each name 1, 2, 3, ... What a user reads when a
model or a version is not there, or a path to register is not there, is said here once.

``AdapterModelRegistry`` is the base of both backends' registries: a subclass sets
``sdk_errors`` (its guard) and implements ``_record`` (its adapter's model record as a
ModelRecord); both adapters answer ``get_model(name, version)`` and ``delete_model(name, version)``.
``select_models`` is SDK v1's model filtering (``Model.list``), for whatever has to apply it itself.
"""

from pathlib import Path

from amlocal.exceptions import ModelNotFoundError, ModelPathNotFoundException
from amlocal.local import cache_dir
from amlocal.rules.filters import matches, model_filter_pairs
from amlocal.stores import ModelRegistry


def select_models(models, name=None, tags=None, properties=None, run_id=None, latest=False, field=getattr):
    """The models (records, or dicts with ``field=dict.get``) with that name and run id and every tag
    and property asked for (a list of keys or [key, value] pairs, as ``Model.list`` takes them),
    by name then newest version first; only each name's newest when ``latest``."""
    tag_pairs, property_pairs = model_filter_pairs(tags), model_filter_pairs(properties)
    found = [m for m in models if (name is None or field(m, "name") == name)
             and (run_id is None or field(m, "run_id") == run_id)
             and matches(field(m, "tags") or {}, tag_pairs) and matches(field(m, "properties") or {}, property_pairs)]
    found.sort(key=lambda m: (field(m, "name"), -field(m, "version")))
    if latest:
        newest = {}
        for model in found:
            newest.setdefault(field(model, "name"), model)
        found = list(newest.values())
    return found


def require_source(source_path):
    """Refuse (ModelPathNotFoundException) to register a local file or folder that is not there."""
    if not Path(source_path).exists():
        raise ModelPathNotFoundException(f"Could not locate the provided model_path {source_path}: no such file or "
                                         "directory.")


def not_in_run(model_path, run_id, files):
    """The error of registering ``model_path`` of run ``run_id``, whose files are ``files``, when it is none of them."""
    return ModelPathNotFoundException(
        f"Could not locate the provided model_path {model_path!r} in the set of files uploaded to the run {run_id}: "
        f"{', '.join(files) or '(none)'}. Write the model under ./outputs in the training script, or pass one of "
        "these paths.")


class AdapterModelRegistry(ModelRegistry):
    #: the backend's guard around SDK calls (``errors.sdk_errors``)
    sdk_errors = None

    def __init__(self, adapter, run_history, workspace_name):
        self.adapter = adapter
        self.run_history = run_history
        self.workspace_name = workspace_name

    @staticmethod
    def _record(model):
        """The adapter's model record as a ModelRecord."""
        raise NotImplementedError

    def _guard(self, action, model):
        return type(self).sdk_errors(action, model=model)

    def get(self, name, version=None):
        try:
            with self._guard("get the model", name):
                return self._record(self.adapter.get_model(name, None if version is None else int(version)))
        except ModelNotFoundError:
            versions = sorted(r.version for r in self.list(name=name))
        if not versions:
            raise ModelNotFoundError(f"ModelNotFound: no model named {name!r} in workspace {self.workspace_name}. "
                                     "Model.list(ws) shows the registered models.")
        raise ModelNotFoundError(f"ModelNotFound: model {name!r} has no version {version}; "
                                 f"its versions are {', '.join(map(str, versions))}.")

    def delete(self, name, version):
        record = self.get(name, version)
        with self._guard("delete the model", name):
            self.adapter.delete_model(record.name, record.version)

    def local_path(self, name, version=None):
        """Downloaded once into amlocal's cache (as the SDK does into ./azureml-models)."""
        record = self.get(name, version)
        target = cache_dir() / "azureml-models" / self.workspace_name / record.name / str(record.version)
        return self.download(record.name, record.version, target, exist_ok=True)
