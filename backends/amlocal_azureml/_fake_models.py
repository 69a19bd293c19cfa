"""The model registry of ``FakeAzureAdapter``'s workspace (``amlocal_azure.fake_assets``), with
SDK v1's records (run_id, model_framework, an aml://asset url), its ``Model.list`` filters and
its errors (WebserviceException, ModelPathNotFoundException).

``run.register_model`` takes the run files that start with ``model_path`` (``amlocal.rules.models``,
the service's prefix rule), each with the path ``Model.download`` gives it; ``Model.register`` of
a local file or folder takes it under its own name. ``Model.download`` returns the common path
of the files it wrote."""

import time
import uuid
from pathlib import Path

from amlocal.rules.models import downloaded_model_path, files_of_model, model_download_paths, normalise_model_path
from amlocal_azure.fake_assets import FakeModels, layout_of
from amlocal_azure.registry import select_models


class FakeV1Models(FakeModels):
    def _invalid_name(self, name):
        from azureml.exceptions import WebserviceException

        return WebserviceException(f"Error, provided model name {name} is invalid. It must only consist of "
                                   "letters, numbers, dashes, periods, or underscores, start with a letter or "
                                   "number, and be between 1 and 255 characters long.")

    def _not_found(self, name, version):
        from azureml.exceptions import WebserviceException

        wanted = f"name {name}" + (f", version {version}" if version is not None else "")
        return WebserviceException(f"ModelNotFound: Model with {wanted} not found in provided workspace")

    def _already_there(self, target):
        from azureml.exceptions import WebserviceException

        return WebserviceException(f"File already exists. To overwrite, set exist_ok to True. {target}")

    def _record(self, name, version, run_id=None, tags=None, properties=None, description=None,
                model_framework=None, model_framework_version=None):
        return {"name": name, "version": version, "run_id": run_id, "tags": dict(tags or {}),
                "properties": dict(properties or {}), "description": description, "created_time": time.time(),
                "model_framework": model_framework, "model_framework_version": model_framework_version,
                "url": f"aml://asset/{uuid.uuid4().hex}"}

    def add(self, name, source, run_id=None, tags=None, properties=None, description=None, model_framework=None,
            model_framework_version=None):
        """``Model.register``: a copy of ``source`` (a file or a folder) as the next version of ``name``."""
        from azureml.exceptions import WebserviceException

        self.check_name(name)
        source = Path(source)
        if not source.exists():
            raise WebserviceException(f'Error, provided model path "{source}" cannot be found')
        return self.store(name, layout_of(source), run_id=run_id, tags=tags, properties=properties,
                          description=description, model_framework=model_framework,
                          model_framework_version=model_framework_version)

    def add_from_run(self, run_id, files, files_dir, name, model_path, **fields):
        """``run.register_model``: the run's ``files`` that start with ``model_path``."""
        from azureml.exceptions import ModelPathNotFoundException

        path = normalise_model_path(model_path)
        selected = files_of_model(path, files)
        if not selected:
            raise ModelPathNotFoundException(
                f"Could not locate the provided model_path {path} in the set of files uploaded to the run: "
                f"{files}\n                See https://aka.ms/run-logging for more details.")
        layout = {Path(files_dir) / file: relative for file, relative in model_download_paths(path, selected).items()}
        return self.store(name, layout, run_id=run_id, **fields)

    def list(self, name=None, tags=None, properties=None, run_id=None, latest=False):
        return select_models(self.present(name), name, tags, properties, run_id, latest, field=dict.get)

    def download(self, name, version, target_dir, exist_ok=False):
        """As ``Model.download``: each file, then their common path."""
        model = self._model(name, version)
        return downloaded_model_path(self.copy_out(model, target_dir, exist_ok), model["_files"])
