"""Where ``run.register_model(model_path=...)`` points in a run's files, and where a registered
model's files land when it is downloaded.

azureml normalises the path (``os.path.normpath`` with '/' separators) and registers an asset
whose artifact is the *prefix* "ExperimentRun/<container>/<path>"
(``RunHistoryFacade.register_model``). The artifact service lists a prefix as plain text
(``ArtifactsClient.get_files_by_artifact_prefix_id``): every run file whose name starts with it.
So "outputs/model.pkl" is that file (and "outputs/model.pkl.bak" too, if the run has one),
"outputs" is the folder (and "outputs2/..." if present), and "outputs/model" selects both
"outputs/model.pkl" and "outputs/model_scaler.pkl". What shows it in the SDK: its own folder
downloads (``ArtifactsClient.download_artifacts_from_prefix``) add a '/' to the prefix to get a
folder only, and ``register_model`` does not. (The service's side is not visible offline.)

``Model.download`` writes each file under ``target_dir`` at its name relative to the prefix's
parent folder (``Model._get_strip_prefix``) and returns the common path of what it wrote: the
file itself when there is one file, else the deepest folder holding them all.

``string_tags``: tags and properties as Azure stores them, every key and value a string.
"""

import os
import posixpath


def normalise_model_path(model_path):
    """"./outputs//model.pkl" -> "outputs/model.pkl"; backslashes count as separators."""
    text = str(model_path).replace("\\", "/")
    normal = posixpath.normpath(text)
    return "" if normal == "." else normal.lstrip("/")


def files_of_model(model_path, run_files):
    """The run files a model path selects: every one whose name starts with the normalised path."""
    path = normalise_model_path(model_path)
    if not path or path == ".." or path.startswith("../"):
        return []
    return [name for name in run_files if name.startswith(path)]


def is_file_or_folder(model_path, selected):
    """Whether the selection is exactly one file named ``model_path`` or everything under a folder
    of that name (the common case, stored as that one file or folder)."""
    path = normalise_model_path(model_path)
    return bool(selected) and (selected == [path] or all(name.startswith(path + "/") for name in selected))


def model_download_paths(model_path, selected):
    """{run file: its path under ``Model.download``'s target_dir} for the files of a model."""
    parent = posixpath.dirname(normalise_model_path(model_path))
    return {name: posixpath.relpath(name, parent) if parent else name for name in selected}


def string_tags(values, missing=None):
    """Tags or properties (a dict, or None) as Azure stores them: keys and values as strings. A
    tag without a value (None) stays None, or becomes ``missing`` where a store cannot hold None
    (MLflow's tags: "")."""
    return {str(key): missing if value is None else str(value) for key, value in (values or {}).items()}


def downloaded_model_path(target_dir, relative_paths):
    """What ``Model.download`` returns once it wrote ``relative_paths`` under ``target_dir``."""
    return os.path.commonpath([os.path.join(os.path.normpath(str(target_dir)), path) for path in relative_paths])

