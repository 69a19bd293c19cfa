"""Where ``run.register_model(model_path=...)`` points in a run's files.

azureml normalises the path (``os.path.normpath`` with '/' separators) and registers every run
file whose name is that path or lies under it as a folder."""

import posixpath


def normalise_model_path(model_path):
    """"./outputs//model.pkl" -> "outputs/model.pkl"; backslashes count as separators."""
    text = str(model_path).replace("\\", "/")
    normal = posixpath.normpath(text)
    return "" if normal == "." else normal.lstrip("/")


def files_of_model(model_path, run_files):
    """The run files a model path selects: the file itself, or every file under the folder."""
    path = normalise_model_path(model_path)
    if not path or path == ".." or path.startswith("../"):
        return []
    return [name for name in run_files if name == path or name.startswith(path + "/")]


MODEL_NAME_RULE = r"^[a-zA-Z0-9][a-zA-Z0-9\-\._]{0,254}$"


def model_name_problem(name):
    """Why ``name`` cannot name a model (azureml's rule), or None."""
    import re

    if isinstance(name, str) and re.match(MODEL_NAME_RULE, name) and "\n" not in name:
        return None
    return (f"Invalid model name {str(name)[:80]!r}: a name starts with a letter or digit and has at most 255 "
            f"letters, digits, '-', '.' or '_' (pattern {MODEL_NAME_RULE}), for example 'sklearn-iris'.")
