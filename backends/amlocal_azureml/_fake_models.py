"""The model registry of ``FakeAzureAdapter``'s workspace: versions 1, 2, 3 per name, files
under ``root``, and the SDK's errors (WebserviceException, ModelPathNotFoundException).

A model is a set of files, each with the path ``Model.download`` gives it, as Azure's asset is
a set of artifacts: ``run.register_model`` takes the run files that start with ``model_path``
(``amlocal.rules.models``, the service's prefix rule); ``Model.register`` of a local file or
folder takes it under its own name."""

import os
import re
import shutil
import threading
import time
import uuid
from pathlib import Path

from amlocal.rules.filters import matches, model_filter_pairs
from amlocal.rules.models import downloaded_model_path, files_of_model, model_download_paths, normalise_model_path

NAME_RULE = "^[a-zA-Z0-9][a-zA-Z0-9\\-\\._]{0,254}$"


class FakeModels:
    def __init__(self, root):
        self.root = Path(root)
        self.models = {}  # name -> [model dicts, version 1 first]
        self._lock = threading.RLock()

    def add(self, name, source, run_id=None, tags=None, properties=None, description=None, model_framework=None,
            model_framework_version=None):
        """Store a copy of ``source`` (a file or a folder) as the next version of ``name``."""
        from azureml.exceptions import WebserviceException

        if not isinstance(name, str) or not re.match(NAME_RULE, name):
            raise WebserviceException(f"Error, provided model name {name} is invalid. It must only consist of "
                                      "letters, numbers, dashes, periods, or underscores, start with a letter or "
                                      "number, and be between 1 and 255 characters long.")
        source = Path(source)
        if not source.exists():
            raise WebserviceException(f'Error, provided model path "{source}" cannot be found')
        if source.is_dir():
            layout = {p: (Path(source.name) / p.relative_to(source)).as_posix() for p in source.rglob("*")
                      if p.is_file()}
        else:
            layout = {source: source.name}
        return self._add(name, layout, run_id, tags, properties, description, model_framework,
                         model_framework_version)

    def _add(self, name, layout, run_id, tags, properties, description, model_framework, model_framework_version):
        """``layout``: {source file: its path under a download's target_dir}."""
        with self._lock:
            versions = self.models.setdefault(name, [])
            version = len(versions) + 1
            stored = self.root / name / str(version)
            for source, relative in layout.items():
                (stored / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, stored / relative)
            model = {"name": name, "version": version, "run_id": run_id, "tags": dict(tags or {}),
                     "properties": dict(properties or {}), "description": description, "created_time": time.time(),
                     "model_framework": model_framework, "model_framework_version": model_framework_version,
                     "url": f"aml://asset/{uuid.uuid4().hex}", "_stored": stored,
                     "_files": sorted(layout.values())}
            versions.append(model)
            return public(model)

    def add_from_run(self, run_id, files, files_dir, name, model_path, **fields):
        """``run.register_model``: ``model_path`` must be one of the run's ``files`` or a folder of them."""
        from azureml.exceptions import ModelPathNotFoundException

        path = normalise_model_path(model_path)
        selected = files_of_model(path, files)
        if not selected:
            raise ModelPathNotFoundException(
                f"Could not locate the provided model_path {path} in the set of files uploaded to the run: "
                f"{files}\n                See https://aka.ms/run-logging for more details.")
        layout = {Path(files_dir) / name: relative for name, relative in model_download_paths(path, selected).items()}
        return self._add(name, layout, run_id, fields.get("tags"), fields.get("properties"), fields.get("description"),
                         fields.get("model_framework"), fields.get("model_framework_version"))

    def _model(self, name, version):
        from azureml.exceptions import WebserviceException

        with self._lock:
            versions = self.models.get(name) or []
            present = [m for m in versions if m is not None]
            if version is None and present:
                return present[-1]
            if version is not None and 1 <= int(version) <= len(versions) and versions[int(version) - 1]:
                return versions[int(version) - 1]
        wanted = f"name {name}" + (f", version {version}" if version is not None else "")
        raise WebserviceException(f"ModelNotFound: Model with {wanted} not found in provided workspace")

    def get(self, name, version=None):
        return public(self._model(name, version))

    def delete(self, name, version):
        """A deleted version's number is never given again (as on Azure)."""
        model = self._model(name, version)
        with self._lock:
            self.models[name][model["version"] - 1] = None

    def list(self, name=None, tags=None, properties=None, run_id=None, latest=False):
        with self._lock:
            every = [m for versions in self.models.values() for m in versions if m is not None]
        found = [m for m in every if (name is None or m["name"] == name) and (run_id is None or m["run_id"] == run_id)
                 and matches(m["tags"], model_filter_pairs(tags)) and matches(m["properties"], model_filter_pairs(properties))]
        found.sort(key=lambda m: (m["name"], -m["version"]))
        if latest:
            newest = {}
            for model in found:
                newest.setdefault(model["name"], model)
            found = list(newest.values())
        return [public(m) for m in found]

    def download(self, name, version, target_dir, exist_ok=False):
        from azureml.exceptions import WebserviceException

        model = self._model(name, version)
        target_dir = Path(os.path.normpath(str(target_dir)))
        for relative in model["_files"]:  # as Model.download: each file, then their common path
            target = target_dir / relative
            if target.exists() and not exist_ok:
                raise WebserviceException(f"File already exists. To overwrite, set exist_ok to True. {target}")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(model["_stored"] / relative, target)
        return downloaded_model_path(target_dir, model["_files"])


def public(model):
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in model.items() if not k.startswith("_")}
