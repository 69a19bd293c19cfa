"""``AzureModelRegistry``: amlocal's ModelRegistry over the Azure ML workspace's model registry.

Records come back as amlocal ModelRecords (name, version, run_id, tags, ...), the same shape the
local registry returns; Azure numbers the versions of each name 1, 2, 3, ...
"""

from pathlib import Path

from amlocal.exceptions import ModelNotFoundError, ModelPathNotFoundException
from amlocal.local import cache_dir
from amlocal.rules.models import normalise_model_path
from amlocal.rules.names import validate_name
from amlocal.stores import ModelRecord, ModelRegistry

from .errors import sdk_errors


def to_record(model):
    return ModelRecord(name=model["name"], version=int(model["version"]), run_id=model.get("run_id"),
                       tags=dict(model.get("tags") or {}), properties=dict(model.get("properties") or {}),
                       description=model.get("description"), created_time=model.get("created_time"),
                       model_framework=model.get("model_framework"),
                       model_framework_version=model.get("model_framework_version"), url=model.get("url"))


def _check_name(name):
    validate_name("model", name)


def _str_dict(values):
    return {str(k): None if v is None else str(v) for k, v in (values or {}).items()}


class AzureModelRegistry(ModelRegistry):
    def __init__(self, adapter, run_history, workspace_name="azureml"):
        self.adapter = adapter
        self.run_history = run_history
        self.workspace_name = workspace_name

    def register(self, name, source_path, tags=None, properties=None, description=None,
                 model_framework=None, model_framework_version=None):
        _check_name(name)
        if not Path(source_path).exists():
            raise ModelPathNotFoundException(f"Could not locate the provided model_path {source_path}: "
                                             "no such file or directory.")
        with sdk_errors("register the model", model=name):
            model = self.adapter.register_model(name, str(source_path), tags=_str_dict(tags),
                                                properties=_str_dict(properties), description=description,
                                                model_framework=model_framework,
                                                model_framework_version=model_framework_version)
        return to_record(model)

    def register_from_run(self, run_id, model_path, name, **kwargs):
        """``run.register_model``: the run's file or folder ``model_path`` as the next version of ``name``."""
        _check_name(name)
        path = normalise_model_path(model_path)
        for key in ("tags", "properties"):
            kwargs[key] = _str_dict(kwargs.get(key))
        try:
            with sdk_errors("register the model from the run", run_id=run_id, model=name):
                model = self.adapter.register_model_from_run(run_id, name, path, **kwargs)
        except ModelPathNotFoundException as err:
            files = self.run_history.list_files(run_id)
            raise ModelPathNotFoundException(
                f"Could not locate the provided model_path {model_path!r} in the set of files uploaded to the "
                f"run {run_id}: {', '.join(files) or '(none)'}. Write the model under ./outputs in the "
                "training script, or pass one of these paths.") from err
        return to_record(model)

    def get(self, name, version=None):
        try:
            with sdk_errors("get the model", model=name):
                return to_record(self.adapter.get_model(name, None if version is None else int(version)))
        except ModelNotFoundError:
            versions = sorted(r.version for r in self.list(name=name))
        if not versions:
            raise ModelNotFoundError(f"ModelNotFound: no model named {name!r} in workspace {self.workspace_name}. "
                                     "Model.list(ws) shows the registered models.")
        raise ModelNotFoundError(f"ModelNotFound: model {name!r} has no version {version}; "
                                 f"its versions are {', '.join(map(str, versions))}.")

    def list(self, name=None, tags=None, properties=None, run_id=None, latest=False):
        with sdk_errors("list models"):
            models = self.adapter.list_models(name=name, tags=tags, properties=properties, run_id=run_id,
                                              latest=latest)
        records = [to_record(m) for m in models]
        return sorted(records, key=lambda r: (r.name, -r.version))

    def download(self, name, version, target_dir, exist_ok=False):
        record = self.get(name, version)
        Path(target_dir).mkdir(parents=True, exist_ok=True)
        with sdk_errors("download the model", model=name):
            return self.adapter.download_model(record.name, record.version, str(target_dir), exist_ok=exist_ok)

    def delete(self, name, version):
        record = self.get(name, version)
        with sdk_errors("delete the model", model=name):
            self.adapter.delete_model(record.name, record.version)

    def local_path(self, name, version=None):
        """Downloaded once into amlocal's cache (as the SDK does into ./azureml-models)."""
        record = self.get(name, version)
        target = cache_dir() / "azureml-models" / self.workspace_name / record.name / str(record.version)
        return self.download(record.name, record.version, target, exist_ok=True)
