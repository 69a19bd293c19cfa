"""A datastore path that would leave its datastore ('..', absolute, NUL) is refused by the azureml
backend with the rule the azureml-v2 backend and the user API apply
(``amlocal.rules.paths.relative_data_path``), before anything reaches the SDK: a run spec that
did not come through the user API (read back from a file, built by a sweep) included."""

import pytest

from amlocal.core import Workspace
from amlocal.exceptions import InvalidArgumentError, PathOutsideRootError
from amlocal.specs import DataPathSpec, RunSpec
from amlocal_azureml import translate

DEFAULT_CLUSTER = "amlocal-cpu"  # the fake workspace's cluster (fixtures.DEFAULT_CLUSTER)
HOSTILE = ["../x", "iris/../../x", "/etc/passwd", "\\\\server\\share", "iris\x00.csv", "C:x"]
#: adapter methods that send a datastore path or a run to Azure
SENDING = {"submit", "submit_hyperdrive", "get_datastore", "datastore_path_exists", "upload_files",
           "download_files", "list_datastore_files"}


class Recording:
    """The fake adapter, noting the name of every method called on it."""

    def __init__(self, adapter):
        self._adapter = adapter
        self.called = []

    def __getattr__(self, name):
        value = getattr(self._adapter, name)
        if callable(value):
            def record(*args, **kwargs):
                self.called.append(name)
                return value(*args, **kwargs)
            return record
        return value


@pytest.fixture
def recording(fake, project):
    adapter = Recording(fake)
    ws = Workspace.from_config(backend="azureml", backend_options={"adapter": adapter,
                                                                   "default_compute_target": DEFAULT_CLUSTER})
    return ws, adapter


@pytest.mark.parametrize("path", HOSTILE)
def test_a_run_with_a_hostile_datastore_path_is_refused_before_the_sdk(recording, project, path):
    ws, adapter = recording
    spec = RunSpec(experiment="paths", source_directory=str(project / "src"), script="train_iris.py",
                   arguments=("--data", DataPathSpec("workspaceblobstore", path)), compute_target=DEFAULT_CLUSTER)
    with pytest.raises(PathOutsideRootError) as raised:
        ws.backend.submit(spec)
    assert isinstance(raised.value, InvalidArgumentError)
    assert str(raised.value).startswith(f"Invalid datastore path {path!r}: a data path ")
    assert "Example of a valid datastore path: 'data/iris'." in str(raised.value)
    assert not SENDING & set(adapter.called), adapter.called


@pytest.mark.parametrize("path", HOSTILE)
def test_datastore_files_are_not_touched_through_a_hostile_path(recording, project, path):
    ws, adapter = recording
    datastores = ws.stores.datastores
    for call in (lambda: datastores.exists("workspaceblobstore", path),
                 lambda: datastores.list("workspaceblobstore", prefix=path),
                 lambda: datastores.download("workspaceblobstore", project / "out", prefix=path),
                 lambda: datastores.upload("workspaceblobstore", [(project / "config.json", path)])):
        with pytest.raises(PathOutsideRootError, match="Invalid datastore path"):
            call()
    assert not SENDING & set(adapter.called), adapter.called


def test_the_translation_checks_both_paths_before_asking_the_sdks_datastore():
    """A sweep's trial is translated without the existence check a run gets: the translation itself refuses."""
    class Datastore:
        asked = []

        def path(self, *args, **kwargs):
            self.asked.append(args)

    for data_path in (DataPathSpec("workspaceblobstore", "../x"),
                      DataPathSpec("workspaceblobstore", "iris", mode="download", path_on_compute="/tmp/x"),
                      DataPathSpec("workspaceblobstore", "iris", mode="download", path_on_compute="../../x")):
        with pytest.raises(PathOutsideRootError, match="path_on_"):
            translate.to_data_reference(data_path, Datastore())
    assert Datastore.asked == []


def test_good_paths_still_reach_the_datastore(ws, project):
    datastore = ws.get_default_datastore()
    datastore.upload(src_dir=str(project / "data"), target_path="data", overwrite=True, show_progress=False)
    assert ws.stores.datastores.exists("workspaceblobstore", "./data//iris/")
    assert ws.stores.datastores.exists("workspaceblobstore", "")
    assert not ws.stores.datastores.exists("workspaceblobstore", "data/absent")
    assert ws.stores.datastores.list("workspaceblobstore", prefix="data/") == ["data/iris/iris.csv"]
    assert ws.stores.datastores.list("workspaceblobstore", prefix=".\\data\\ir") == ["data/iris/iris.csv"]
