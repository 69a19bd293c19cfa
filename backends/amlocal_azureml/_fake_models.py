"""The model registry of ``FakeAzureAdapter``'s workspace: versions 1, 2, 3 per name, files
under ``root``, and the SDK's errors (WebserviceException, ModelPathNotFoundException)."""

import re
import shutil
import threading
import time
import uuid
from pathlib import Path

from amlocal.rules.filters import matches, model_filter_pairs

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
        with self._lock:
            versions = self.models.setdefault(name, [])
            version = len(versions) + 1
            stored = self.root / name / str(version) / source.name
            stored.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, stored)
            else:
                shutil.copyfile(source, stored)
            model = {"name": name, "version": version, "run_id": run_id, "tags": dict(tags or {}),
                     "properties": dict(properties or {}), "description": description, "created_time": time.time(),
                     "model_framework": model_framework, "model_framework_version": model_framework_version,
                     "url": f"aml://asset/{uuid.uuid4().hex}", "_stored": stored}
            versions.append(model)
            return public(model)

    def add_from_run(self, run_id, files, files_dir, name, model_path, **fields):
        """``run.register_model``: ``model_path`` must be one of the run's ``files`` or a folder of them."""
        from azureml.exceptions import ModelPathNotFoundException

        path = str(model_path).replace("\\", "/").strip("/")
        if path not in files and not any(f.startswith(path + "/") for f in files):
            raise ModelPathNotFoundException(
                f"Could not locate the provided model_path {path} in the set of files uploaded to the run: "
                f"{files}\n                See https://aka.ms/run-logging for more details.")
        return self.add(name, Path(files_dir) / path, run_id=run_id, **fields)

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

        stored = self._model(name, version)["_stored"]
        target = Path(target_dir) / stored.name
        if target.exists() and not exist_ok:
            raise WebserviceException(f"File already exists. To overwrite, set exist_ok to True. {target}")
        target.parent.mkdir(parents=True, exist_ok=True)
        if stored.is_dir():
            shutil.copytree(stored, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(stored, target)
        return str(target)


def public(model):
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in model.items() if not k.startswith("_")}
