"""Model (``azureml.core.Model``): a registered, versioned model of a workspace."""

from pathlib import Path

from ..exceptions import InvalidArgumentError, ModelNotFoundError
from ..rules.filters import model_filter_problem
from .inference_config import InferenceConfig  # noqa: F401  (azureml.core.model.InferenceConfig)


class Model:
    def __init__(self, workspace, name=None, id=None, tags=None, properties=None, version=None, run_id=None,
                 model_framework=None, expand=True, **kwargs):
        record = kwargs.pop("_record", None)
        if record is None:
            if id:
                name, _, version = str(id).partition(":")
                version = version or None
            if not name:
                raise InvalidArgumentError("Model(workspace, name=...) needs a name or an id 'name:version'.")
            if tags or properties or run_id:
                matches = Model.list(workspace, name=name, tags=tags, properties=properties, run_id=run_id)
                matches = [m for m in matches if version is None or m.version == int(version)]
                if not matches:
                    raise ModelNotFoundError(f"ModelNotFound: no model {name!r} matches the given filters.")
                record = matches[0]._record
            else:
                record = workspace.model_registry.get(name, version)
        self._record = record
        self.workspace = workspace

    name = property(lambda self: self._record.name)
    version = property(lambda self: self._record.version)
    id = property(lambda self: self._record.id)
    tags = property(lambda self: dict(self._record.tags))
    properties = property(lambda self: dict(self._record.properties))
    run_id = property(lambda self: self._record.run_id)
    description = property(lambda self: self._record.description)
    created_time = property(lambda self: self._record.created_time)
    model_framework = property(lambda self: self._record.model_framework)
    model_framework_version = property(lambda self: self._record.model_framework_version)
    url = property(lambda self: self._record.url)

    @staticmethod
    def register(workspace, model_path, model_name, tags=None, properties=None, description=None, datasets=None,
                 model_framework=None, model_framework_version=None, child_paths=None, sample_input_dataset=None,
                 sample_output_dataset=None, resource_configuration=None):
        record = workspace.model_registry.register(
            model_name, model_path, tags=tags, properties=properties, description=description,
            model_framework=model_framework, model_framework_version=model_framework_version)
        print(f"Registering model {model_name}")
        return Model(workspace, _record=record)

    @staticmethod
    def list(workspace, name=None, tags=None, properties=None, run_id=None, latest=False, dataset_id=None,
             expand=True, page_count=255, model_framework=None):
        if page_count and (page_count < 20 or page_count > 255):
            raise InvalidArgumentError(f"Expected page_count value is between 20 and 255. Provided: {page_count}")
        for label, wanted in (("tags", tags), ("properties", properties)):
            problem = model_filter_problem(label, wanted)
            if problem:
                raise InvalidArgumentError(problem)
        records = workspace.model_registry.list(name=name, tags=tags, properties=properties, run_id=run_id,
                                                latest=latest)
        if model_framework:
            records = [r for r in records if r.model_framework == model_framework]
        return [Model(workspace, _record=r) for r in records]

    def download(self, target_dir='.', exist_ok=False, exists_ok=None):
        if exists_ok is not None:
            exist_ok = exists_ok
        return self.workspace.model_registry.download(self.name, self.version, target_dir, exist_ok=exist_ok)

    def delete(self):
        """Remove this version of the model from the registry."""
        self.workspace.model_registry.delete(self.name, self.version)

    @staticmethod
    def deploy(workspace, name, models, inference_config=None, deployment_config=None, deployment_target=None,
               overwrite=False, show_output=False):
        """Deploy ``models`` as web service ``name`` (``amlocal.core.webservice``); returns the
        Webservice, usually still deploying: call ``wait_for_deployment``."""
        from .webservice._deploy import deploy_models

        return deploy_models(workspace, name, models, inference_config, deployment_config, deployment_target,
                             overwrite, show_output)

    @staticmethod
    def get_model_path(model_name, version=None, _workspace=None):
        """The local path of a registered model's file or directory (latest version when None)."""
        if _workspace is None:
            from .workspace import Workspace

            _workspace = Workspace.from_config()
        return _workspace.model_registry.local_path(model_name, version)

    def serialize(self):
        r = self._record
        return {"name": r.name, "version": r.version, "id": r.id, "runId": r.run_id, "tags": r.tags,
                "properties": r.properties, "description": r.description, "createdTime": r.created_time,
                "url": r.url}

    def __repr__(self):
        return (f"Model(workspace={self.workspace.name}, name={self.name}, id={self.id}, version={self.version}, "
                f"tags={self.tags}, properties={self.properties})")
