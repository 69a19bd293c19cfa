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

