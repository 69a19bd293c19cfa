"""The model registry of a local workspace: rows in the database, files under models/<name>/<version>/.

Registration copies the files to a staging directory first, then, inside one write
transaction, picks the next version, moves the files into place and inserts the row: a
failure at any point leaves no half model and no gap.
"""

import json
import os
import shutil
import time
import uuid
from pathlib import Path

from ..exceptions import InvalidArgumentError, ModelError, ModelNotFoundError, ModelPathNotFoundException
from ..rules import filters
from ..rules.models import (downloaded_model_path, files_of_model, is_file_or_folder, model_download_paths,
                            normalise_model_path, string_tags)
from ..rules.names import validate_name
from ..stores.model_registry import ModelRecord, ModelRegistry
from .layout import make_private_dir, make_private_tree


#: the stored entry of a model made of several run files: the version's whole directory
WHOLE_VERSION = "."


def check_model_name(name):
    return validate_name("model", name)


class LocalModelRegistry(ModelRegistry):
    def __init__(self, store, layout, run_history=None):
        self.store = store
        self.layout = layout
        self.run_history = run_history

    def register(self, name, source_path, tags=None, properties=None, description=None,
                 model_framework=None, model_framework_version=None, run_id=None):
        check_model_name(name)
        source = Path(source_path)
        if not source.exists():
            raise ModelPathNotFoundException(f"Could not locate the provided model_path {source_path}: "
                                             "no such file or directory.")
        staging = make_private_dir(self.layout.models / ".staging" / uuid.uuid4().hex)
        try:
            staged = staging / source.name
            try:
                if source.is_dir():
                    shutil.copytree(source, staged)
                else:
                    shutil.copyfile(source, staged)
            except OSError as err:  # shutil.Error (copytree) is an OSError too
                raise ModelError(f"Could not copy the model files from {source} into the registry: "
                                 f"{_copy_failure(err)}. Nothing was registered; fix that and register "
                                 "again.") from err
            make_private_tree(staging)
            return self._commit(name, staging, source.name, run_id, tags or {}, properties or {},
                                description, model_framework, model_framework_version)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def register_from_run(self, run_id, model_path, name, **kwargs):
        check_model_name(name)
        files = self.run_history.list_files(run_id)
        path = normalise_model_path(model_path)
        selected = files_of_model(path, files)
        if not selected:
            raise ModelPathNotFoundException(
                f"Could not locate the provided model_path {model_path!r} in the set of files uploaded to the "
                f"run {run_id}: {', '.join(files) or '(none)'}. Write the model under ./outputs in the "
                "training script, or pass one of these paths.")
        if is_file_or_folder(path, selected):
            return self.register(name, self.layout.run_files(run_id) / path, run_id=run_id, **kwargs)
        return self._register_selection(name, run_id, model_download_paths(path, selected), **kwargs)

    def _register_selection(self, name, run_id, layout, tags=None, properties=None, description=None,
                            model_framework=None, model_framework_version=None):
        """A path that is a prefix of several run files (as Azure's artifact service reads it): the
        files, each at its download path, make up the version's whole directory (entry ".")."""
        staging = self.layout.models / ".staging" / uuid.uuid4().hex
        try:
            for run_file, relative in layout.items():
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self.layout.run_files(run_id) / run_file, target)
            return self._commit(name, staging, WHOLE_VERSION, run_id, tags or {}, properties or {}, description,
                                model_framework, model_framework_version)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _commit(self, name, staging, entry, run_id, tags, properties, description, framework, framework_version):
        now = time.time()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT MAX(version) FROM models WHERE name = ?", (name,)).fetchone()
            version = (row[0] or 0) + 1
            final = self.layout.model_dir(name, version)
            if final.exists():  # left by a process that died before its commit: not a model
                shutil.rmtree(final)
            make_private_dir(final.parent)
            os.rename(staging, final)
            try:
                conn.execute(
                    "INSERT INTO models (name, version, run_id, tags, properties, description, created,"
                    " model_framework, model_framework_version, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (name, version, run_id, json.dumps(string_tags(tags)), json.dumps(string_tags(properties)),
                     description, now, framework, framework_version, entry))
            except BaseException:
                os.rename(final, staging)
                raise
        return ModelRecord(name=name, version=version, run_id=run_id, tags=string_tags(tags),
                           properties=string_tags(properties), description=description, created_time=now,
                           model_framework=framework, model_framework_version=framework_version,
                           url=f"{final}/{entry}")

    def _record(self, row):
        # Listing builds one record per version: plain string paths and no JSON parse of empty
        # dicts keep 1,000 versions within a few milliseconds.
        return ModelRecord(name=row["name"], version=row["version"], run_id=row["run_id"],
                           tags=_load_dict(row["tags"]), properties=_load_dict(row["properties"]),
                           description=row["description"], created_time=row["created"],
                           model_framework=row["model_framework"],
                           model_framework_version=row["model_framework_version"],
                           url=f"{self._models_root}/{row['name']}/{row['version']}/{row['path']}")

    @property
    def _models_root(self):
        return str(self.layout.models)

    def get(self, name, version=None):
        if version is None:
            rows = self.store.read("SELECT * FROM models WHERE name = ? ORDER BY version DESC LIMIT 1", (name,))
        else:
            rows = self.store.read("SELECT * FROM models WHERE name = ? AND version = ?", (name, int(version)))
        if not rows:
            versions = [r["version"] for r in self.store.read(
                "SELECT version FROM models WHERE name = ? ORDER BY version", (name,))]
            if not versions:
                raise ModelNotFoundError(f"ModelNotFound: no model named {name!r} in this workspace. "
                                         "`amlocal model list` shows the registered models.")
            raise ModelNotFoundError(f"ModelNotFound: model {name!r} has no version {version}; "
                                     f"its versions are {', '.join(map(str, versions))}.")
        return self._record(rows[0])

    def list(self, name=None, tags=None, properties=None, run_id=None, latest=False):
        sql, params = "SELECT * FROM models WHERE 1=1", []
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        if run_id is not None:
            sql += " AND run_id = ?"
            params.append(run_id)
        sql += " ORDER BY name, version DESC"
        records = [self._record(row) for row in self.store.read(sql, params)]
        tag_pairs, property_pairs = filters.model_filter_pairs(tags), filters.model_filter_pairs(properties)
        records = [r for r in records if filters.matches(r.tags, tag_pairs) and filters.matches(r.properties, property_pairs)]
        if latest:
            seen, newest = set(), []
            for record in records:
                if record.name not in seen:
                    seen.add(record.name)
                    newest.append(record)
            records = newest
        return records

    def download(self, name, version, target_dir, exist_ok=False):
        record = self.get(name, version)
        if record.url.endswith("/" + WHOLE_VERSION):
            return self._download_whole_version(Path(record.url), Path(target_dir), exist_ok)
        source = Path(record.url)
        target = Path(target_dir) / source.name
        if target.exists() and not exist_ok:
            raise InvalidArgumentError(f"{target} already exists. Pass exist_ok=True to overwrite it, "
                                       "or choose another target_dir.")
        target.parent.mkdir(parents=True, exist_ok=True)
        if not source.is_dir():
            shutil.copyfile(source, target)
            return str(target)
        shutil.copytree(source, target, dirs_exist_ok=True)
        files = [p.relative_to(target_dir).as_posix() for p in target.rglob("*") if p.is_file()]
        return downloaded_model_path(target_dir, files) if files else str(target)  # as azureml: their common path

    def _download_whole_version(self, source, target_dir, exist_ok):
        relative = sorted(p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file())
        for path in relative:
            if (target_dir / path).exists() and not exist_ok:
                raise InvalidArgumentError(f"{target_dir / path} already exists. Pass exist_ok=True to overwrite it, "
                                           "or choose another target_dir.")
        for path in relative:
            (target_dir / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / path, target_dir / path)
        return downloaded_model_path(target_dir, relative)

    def local_path(self, name, version=None):
        url = self.get(name, version).url
        return url[:-len("/" + WHOLE_VERSION)] if url.endswith("/" + WHOLE_VERSION) else url

    def delete(self, name, version):
        record = self.get(name, version)
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM models WHERE name = ? AND version = ?", (name, record.version))
        shutil.rmtree(self.layout.model_dir(name, record.version), ignore_errors=True)


def _copy_failure(err):
    """One line per file that could not be copied (copytree gathers them in a list)."""
    if isinstance(err, shutil.Error) and err.args and isinstance(err.args[0], list):
        return "; ".join(f"{src}: {why}" for src, _, why in err.args[0][:5]) + (
            f" (and {len(err.args[0]) - 5} more)" if len(err.args[0]) > 5 else "")
    return str(err)


def _load_dict(text):
    return json.loads(text) if text and text != "{}" else {}


