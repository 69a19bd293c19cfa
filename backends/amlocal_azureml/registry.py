"""``AzureModelRegistry``: amlocal's ModelRegistry over the Azure ML workspace's model registry.

What both Azure backends share (lookups, the messages of a missing model or path, the cache)
is ``amlocal_azure.registry``; SDK v1 registers a run's file through the run
(``run.register_model``) and filters, downloads and deletes through ``Model`` itself.
"""

from pathlib import Path

from amlocal.exceptions import ModelPathNotFoundException
from amlocal.rules.models import normalise_model_path, string_tags
from amlocal.rules.names import validate_model_name
from amlocal.stores import ModelRecord
from amlocal_azure.registry import AdapterModelRegistry, not_in_run, require_source

from .errors import sdk_errors


def to_record(model):
    return ModelRecord(name=model["name"], version=int(model["version"]), run_id=model.get("run_id"),
                       tags=dict(model.get("tags") or {}), properties=dict(model.get("properties") or {}),
                       description=model.get("description"), created_time=model.get("created_time"),
                       model_framework=model.get("model_framework"),
                       model_framework_version=model.get("model_framework_version"), url=model.get("url"))


class AzureModelRegistry(AdapterModelRegistry):
    sdk_errors = sdk_errors
    _record = staticmethod(to_record)

    def register(self, name, source_path, tags=None, properties=None, description=None,
                 model_framework=None, model_framework_version=None):
        validate_model_name(name)
        require_source(source_path)
        with sdk_errors("register the model", model=name):
            model = self.adapter.register_model(name, str(source_path), tags=string_tags(tags),
                                                properties=string_tags(properties), description=description,
                                                model_framework=model_framework,
                                                model_framework_version=model_framework_version)
        return to_record(model)

    def register_from_run(self, run_id, model_path, name, **kwargs):
        """``run.register_model``: the run's file or folder ``model_path`` as the next version of ``name``."""
        validate_model_name(name)
        path = normalise_model_path(model_path)
        for key in ("tags", "properties"):
            kwargs[key] = string_tags(kwargs.get(key))
        try:
            with sdk_errors("register the model from the run", run_id=run_id, model=name):
                model = self.adapter.register_model_from_run(run_id, name, path, **kwargs)
        except ModelPathNotFoundException as err:
            raise not_in_run(model_path, run_id, self.run_history.list_files(run_id)) from err
        return to_record(model)

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
