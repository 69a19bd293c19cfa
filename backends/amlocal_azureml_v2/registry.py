"""``AzureV2ModelRegistry``: amlocal's ModelRegistry over the workspace's models (SDK v2).

What both Azure backends share (lookups, the messages of a missing model or path, the cache,
SDK v1's model filters) is ``amlocal_azure.registry``. What SDK v2 does its own way:

* registering from a run's files registers the job artifact's address,
  ``azureml://jobs/<job>/outputs/artifacts/paths/<path>`` (``translate.job_artifact_uri``), after
  checking the path is among the run's files; versions come from the service (1, 2, 3 per name);
* a version cannot be deleted: ``delete`` archives it (``models.archive``), which takes it out
  of every listing and of "latest", as a deletion does;
* models are listed without tag or property filters, so SDK v1's filters (a list of keys or
  [key, value] pairs) are applied here (``select_models``);
* downloads land in SDK v1's layout: ``target_dir/<the model's file or folder name>``.
"""

from pathlib import Path

from amlocal.exceptions import ModelError, ModelNotFoundError
from amlocal.rules.models import files_of_model, normalise_model_path
from amlocal.rules.names import validate_model_name
from amlocal.stores import ModelRecord
from amlocal_azure.registry import AdapterModelRegistry, not_in_run, require_source, select_models

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


class AzureV2ModelRegistry(AdapterModelRegistry):
    sdk_errors = sdk_errors
    _record = staticmethod(to_record)

    def register(self, name, source_path, tags=None, properties=None, description=None,
                 model_framework=None, model_framework_version=None):
        validate_model_name(name)
        fields = dict(tags=tags, properties=properties, description=description, model_framework=model_framework,
                      model_framework_version=model_framework_version)
        require_source(source_path)
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
            raise not_in_run(model_path, run_id, files)
        model = translate.to_model(name, translate.job_artifact_uri(run_id, path), **fields)
        with sdk_errors("register the model from the job", model=name):
            record = dict(self.adapter.create_model(model))
        record["job_name"] = record.get("job_name") or run_id
        return to_record(record)

    def list(self, name=None, tags=None, properties=None, run_id=None, latest=False):
        try:
            with sdk_errors("list models", model=name):
                models = [to_record(m) for m in self.adapter.list_models(name)]
        except ModelNotFoundError:
            return []
        return select_models(models, tags=tags, properties=properties, run_id=run_id, latest=latest)

    def download(self, name, version, target_dir, exist_ok=False):
        record = self.get(name, version)
        target = Path(target_dir) / model_file_name(record.url)
        if target.exists() and not exist_ok:
            raise ModelError(f"File already exists. To overwrite, set exist_ok to True. {target}")
        Path(target_dir).mkdir(parents=True, exist_ok=True)
        with sdk_errors("download the model", model=name):
            return self.adapter.download_model(record.name, record.version, str(target_dir))

