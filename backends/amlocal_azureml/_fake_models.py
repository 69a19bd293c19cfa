"""The model registry of ``FakeAzureAdapter``'s workspace (``amlocal_azure.fake_assets``), with
SDK v1's records (run_id, model_framework, an aml://asset url), its ``Model.list`` filters and
its errors (WebserviceException, ModelPathNotFoundException)."""

import time
import uuid
from pathlib import Path

from amlocal_azure.fake_assets import FakeModels
from amlocal_azure.registry import select_models


class FakeV1Models(FakeModels):
    def _invalid_name(self, name):
        from azureml.exceptions import WebserviceException

        return WebserviceException(f"Error, provided model name {name} is invalid. It must only consist of "
                                   "letters, numbers, dashes, periods, or underscores, start with a letter or "
                                   "number, and be between 1 and 255 characters long.")

    def _check_source(self, source):
        from azureml.exceptions import WebserviceException

        if not source.exists():
            raise WebserviceException(f'Error, provided model path "{source}" cannot be found')

    def _not_found(self, name, version):
        from azureml.exceptions import WebserviceException

        wanted = f"name {name}" + (f", version {version}" if version is not None else "")
        return WebserviceException(f"ModelNotFound: Model with {wanted} not found in provided workspace")

    def _record(self, name, version, source, run_id=None, tags=None, properties=None, description=None,
                model_framework=None, model_framework_version=None):
        return {"name": name, "version": version, "run_id": run_id, "tags": dict(tags or {}),
                "properties": dict(properties or {}), "description": description, "created_time": time.time(),
                "model_framework": model_framework, "model_framework_version": model_framework_version,
                "url": f"aml://asset/{uuid.uuid4().hex}"}

    def add_from_run(self, run_id, files, files_dir, name, model_path, **fields):
        """``run.register_model``: ``model_path`` must be one of the run's ``files`` or a folder of them."""
        from azureml.exceptions import ModelPathNotFoundException

        path = str(model_path).replace("\\", "/").strip("/")
        if path not in files and not any(f.startswith(path + "/") for f in files):
            raise ModelPathNotFoundException(
                f"Could not locate the provided model_path {path} in the set of files uploaded to the run: "
                f"{files}\n                See https://aka.ms/run-logging for more details.")
        return self.add(name, Path(files_dir) / path, run_id=run_id, **fields)

    def list(self, name=None, tags=None, properties=None, run_id=None, latest=False):
        return select_models(self.present(name), name, tags, properties, run_id, latest, field=dict.get)

    def download(self, name, version, target_dir, exist_ok=False):
        from azureml.exceptions import WebserviceException

        target = Path(target_dir) / self._model(name, version)["_stored"].name
        if target.exists() and not exist_ok:
            raise WebserviceException(f"File already exists. To overwrite, set exist_ok to True. {target}")
        return super().download(name, version, target_dir)
