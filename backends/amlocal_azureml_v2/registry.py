"""``AzureV2ModelRegistry``: amlocal's ModelRegistry over the workspace's models (SDK v2).

Registering from a run's files registers the job artifact's address,
``azureml://jobs/<job>/outputs/artifacts/paths/<path>`` (``translate.job_artifact_uri``), after
checking the path is among the run's files; versions come from the service (1, 2, 3 per name).
SDK v2 lists models without tag or property filters, so those filters (SDK v1's: a list of keys
or [key, value] pairs) are applied here, the one way the local registry applies them. Downloads
land in SDK v1's layout: ``target_dir/<the model's file or folder name>``.
"""

from pathlib import Path

from amlocal.exceptions import ModelError, ModelNotFoundError, ModelPathNotFoundException
from amlocal.local import cache_dir
from amlocal.rules.filters import matches, model_filter_pairs
from amlocal.rules.models import files_of_model, normalise_model_path
from amlocal.rules.names import validate_model_name
from amlocal.stores import ModelRecord, ModelRegistry

from . import translate
from .errors import sdk_errors


def to_record(model):
    return ModelRecord(name=model["name"], version=int(model["version"]), run_id=model.get("job_name"),
                       tags=dict(model.get("tags") or {}), properties=dict(model.get("properties") or {}),
                       description=model.get("description"), created_time=model.get("created_time"),
                       model_framework=(model.get("properties") or {}).get("model_framework"),
                       model_framework_version=(model.get("properties") or {}).get("model_framework_version"),
                       url=model.get("path"))


def model_file_name(path):
    """The name the registered file or folder has (the last part of its address)."""
    return str(path or "").rstrip("/").rsplit("/", 1)[-1]


class AzureV2ModelRegistry(ModelRegistry):
    def __init__(self, adapter, run_history, workspace_name="azureml-v2"):
        self.adapter = adapter
        self.run_history = run_history
        self.workspace_name = workspace_name

    def register(self, name, source_path, tags=None, properties=None, description=None,
                 model_framework=None, model_framework_version=None):
        validate_model_name(name)
        fields = dict(tags=tags, properties=properties, description=description, model_framework=model_framework,
                      model_framework_version=model_framework_version)
        if not Path(source_path).exists():
            raise ModelPathNotFoundException(f"Could not locate the provided model_path {source_path}: no such file "
                                             "or directory.")
        with sdk_errors("register the model", model=name):
            return to_record(self.adapter.create_model(translate.to_model(name, Path(source_path).resolve(),
                                                                          **fields)))

    def register_from_run(self, run_id, model_path, name, tags=None, properties=None, description=None,
                          model_framework=None, model_framework_version=None):
        """``run.register_model``: the run's file or folder ``model_path`` as the next version of ``name``."""
        validate_model_name(name)
        fields = dict(tags=tags, properties=properties, description=description, model_framework=model_framework,
                      model_framework_version=model_framework_version)
        path = normalise_model_path(model_path)
        files = self.run_history.list_files(run_id)
        if not files_of_model(model_path, files):
            raise ModelPathNotFoundException(
                f"Could not locate the provided model_path {model_path!r} in the set of files uploaded to the run "
                f"{run_id}: {', '.join(files) or '(none)'}. Write the model under ./outputs in the training script, "
                "or pass one of these paths.")
        model = translate.to_model(name, translate.job_artifact_uri(run_id, path), **fields)
        with sdk_errors("register the model from the job", model=name):
            record = dict(self.adapter.create_model(model))
        record["job_name"] = record.get("job_name") or run_id
        return to_record(record)

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
        try:
            with sdk_errors("list models", model=name):
                models = [to_record(m) for m in self.adapter.list_models(name)]
        except ModelNotFoundError:
            return []
        tag_pairs, property_pairs = model_filter_pairs(tags), model_filter_pairs(properties)
        found = [m for m in models if (run_id is None or m.run_id == run_id) and matches(m.tags, tag_pairs)
                 and matches(m.properties, property_pairs)]
        found.sort(key=lambda r: (r.name, -r.version))
        if latest:
            newest = {}
            for record in found:
                newest.setdefault(record.name, record)
            found = list(newest.values())
        return found

    def download(self, name, version, target_dir, exist_ok=False):
        record = self.get(name, version)
        target = Path(target_dir) / model_file_name(record.url)
        if target.exists() and not exist_ok:
            raise ModelError(f"File already exists. To overwrite, set exist_ok to True. {target}")
        Path(target_dir).mkdir(parents=True, exist_ok=True)
        with sdk_errors("download the model", model=name):
            return self.adapter.download_model(record.name, record.version, str(target_dir))

    def delete(self, name, version):
        """SDK v2 has no deletion of a model version: it is archived (``models.archive``), which takes
        it out of every listing and of "latest", as a deletion does."""
        record = self.get(name, version)
        with sdk_errors("delete the model", model=name):
            self.adapter.delete_model(record.name, record.version)

    def local_path(self, name, version=None):
        """Downloaded once into amlocal's cache (as the SDK does into ./azureml-models)."""
        record = self.get(name, version)
        target = cache_dir() / "azureml-models" / self.workspace_name / record.name / str(record.version)
        return self.download(record.name, record.version, target, exist_ok=True)
