"""``run.register_model(model_path=...)`` selects run files by Azure's prefix rule, and
``Model.download`` lays them out as azureml does, on the local backend and on the Azure fake."""

import io
import textwrap
from contextlib import redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import pytest

from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace
from amlocal.exceptions import ModelPathNotFoundException
from amlocal.rules.models import downloaded_model_path, files_of_model, model_download_paths

RUN_FILES = ["outputs/model.joblib", "outputs/model.joblib.bak", "outputs/model_scaler.pkl",
             "outputs/models/extra.txt", "outputs2/other.txt", "logs/trace.txt"]


def sdk_register_prefix(model_path):
    """The artifact prefix the real ``RunHistoryFacade.register_model`` asks the service to list."""
    from azureml._run_impl.run_history_facade import RunHistoryFacade

    asked = []
    facade = object.__new__(RunHistoryFacade)
    facade.run_dto = SimpleNamespace(data_container_id="dcid")
    facade._run_id = "run-1"
    facade._origin = "ExperimentRun"
    facade.artifacts = SimpleNamespace(get_files_by_artifact_prefix_id=lambda prefix: asked.append(prefix) or [],
                                       get_file_paths=lambda origin, container: [])
    with pytest.raises(Exception, match="Could not locate the provided model_path"):
        facade.register_model("m", model_path)
    return asked[0]


def sdk_folder_prefix(prefix):
    """The prefix the real SDK lists when it wants a folder (``download_files(prefix=...)``)."""
    from azureml._restclient.artifacts_client import ArtifactsClient

    asked = []
    client = SimpleNamespace(_execute_func=lambda function, *args: function(*args), _logger=None,
                             get_files_by_artifact_prefix_id=lambda path: asked.append(path) or [])
    try:
        ArtifactsClient.download_artifacts_from_prefix(client, "ExperimentRun", "dcid", prefix=prefix,
                                                       output_directory="/nonexistent")
    except Exception:
        pass  # nothing to download; the prefix it asked for is what matters
    return asked[0]


def test_register_model_sends_the_plain_path_as_a_prefix_and_folders_need_a_slash():
    assert sdk_register_prefix("./outputs//model") == "ExperimentRun/dcid/outputs/model"
    assert sdk_register_prefix("outputs/") == "ExperimentRun/dcid/outputs"
    # where the SDK means "this folder" it adds a '/' itself (two, in fact): the service's prefix is text
    assert sdk_folder_prefix("outputs").startswith("ExperimentRun/dcid/outputs/")


@pytest.mark.parametrize("model_path, selected", [
    ("outputs/model.joblib", ["outputs/model.joblib", "outputs/model.joblib.bak"]),
    ("outputs/model", ["outputs/model.joblib", "outputs/model.joblib.bak", "outputs/model_scaler.pkl",
                       "outputs/models/extra.txt"]),
    ("./outputs/", ["outputs/model.joblib", "outputs/model.joblib.bak", "outputs/model_scaler.pkl",
                    "outputs/models/extra.txt", "outputs2/other.txt"]),
    ("outputs/missing", []),
])
def test_the_rule_selects_every_run_file_starting_with_the_path(model_path, selected):
    prefix = sdk_register_prefix(model_path).split("/", 2)[2]
    assert files_of_model(model_path, RUN_FILES) == selected == [f for f in RUN_FILES if f.startswith(prefix)]


def test_download_layout_is_relative_to_the_prefix_parent():
    selected = files_of_model("outputs/model", RUN_FILES)
    layout = model_download_paths("outputs/model", selected)
    assert layout == {"outputs/model.joblib": "model.joblib", "outputs/model.joblib.bak": "model.joblib.bak",
                      "outputs/model_scaler.pkl": "model_scaler.pkl", "outputs/models/extra.txt": "models/extra.txt"}
    assert downloaded_model_path("/t", list(layout.values())) == "/t"
    assert downloaded_model_path("/t/", ["model.joblib"]) == "/t/model.joblib"
    assert downloaded_model_path("/t", ["outputs/a/b.txt"]) == "/t/outputs/a/b.txt"


WRITER = """
    import os
    os.makedirs("outputs/models", exist_ok=True)
    os.makedirs("outputs/single", exist_ok=True)
    for name in ("model.joblib", "model_scaler.pkl", "models/extra.txt", "single/only.bin"):
        with open(os.path.join("outputs", name), "w") as handle:
            handle.write(name)
"""


@pytest.fixture(params=["process", "azureml"])
def finished_run(request, fake, project):
    if request.param == "process":
        ws = Workspace.from_config(backend="process")
    else:
        ws = Workspace.from_config(backend="azureml", backend_options={"adapter": fake,
                                                                       "default_compute_target": "amlocal-cpu"})
    folder = project / "writer"
    folder.mkdir()
    (folder / "write.py").write_text(textwrap.dedent(WRITER))
    config = ScriptRunConfig(source_directory=str(folder), script="write.py", environment=Environment("stdlib"))
    run = Experiment(ws, "paths").submit(config)
    with redirect_stdout(io.StringIO()):
        run.wait_for_completion()
    return run


def test_a_partial_name_registers_every_file_it_starts(finished_run, tmp_path):
    model = finished_run.register_model("scaled", model_path="outputs/model")
    path = Path(model.download(str(tmp_path / "dl")))
    assert path == tmp_path / "dl"
    assert sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()) == \
        ["model.joblib", "model_scaler.pkl", "models/extra.txt"]
    assert (path / "model_scaler.pkl").read_text() == "model_scaler.pkl"


def test_a_file_and_a_folder_of_one_file_download_as_the_file(finished_run, tmp_path):
    model = finished_run.register_model("joblib", model_path="outputs/model.joblib")
    assert Path(model.download(str(tmp_path / "file"))) == tmp_path / "file" / "model.joblib"
    single = finished_run.register_model("single", model_path="outputs/single")
    assert Path(single.download(str(tmp_path / "folder"))) == tmp_path / "folder" / "single" / "only.bin"


def test_a_path_no_run_file_starts_with_is_not_found(finished_run):
    with pytest.raises(ModelPathNotFoundException, match="outputs/nothing"):
        finished_run.register_model("none", model_path="outputs/nothing")
