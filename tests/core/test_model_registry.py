"""The local model registry: versions, listing filters, downloads, and registration that is safe
under concurrency and leaves nothing behind when it fails."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from amlocal.core import Model, Workspace
from amlocal.exceptions import InvalidArgumentError, ModelError

from .conftest import write_config


@pytest.fixture
def model_file(project):
    path = project / "model.pkl"
    path.write_bytes(b"weights-v1")
    return path


@pytest.fixture
def model_dir(project):
    directory = project / "model_dir"
    (directory / "sub").mkdir(parents=True)
    (directory / "weights.bin").write_bytes(b"\x00\x01\x02")
    (directory / "sub" / "vocab.txt").write_text("a\nb\n")
    return directory


def test_versions_count_up_per_name(ws, model_file):
    a = [Model.register(ws, str(model_file), "alpha").version for _ in range(3)]
    b = [Model.register(ws, str(model_file), "beta").version for _ in range(2)]

    assert a == [1, 2, 3]
    assert b == [1, 2]
    assert Model(ws, "alpha").version == 3
    assert Model(ws, "beta").version == 2
    assert Model(ws, "alpha", version=2).version == 2
    assert Model(ws, id="alpha:1").id == "alpha:1"


def test_register_a_file(ws, model_file, capsys):
    model = Model.register(ws, str(model_file), "clf", tags={"area": "iris"}, properties={"acc": 0.97},
                           description="first", model_framework="ScikitLearn")

    assert "Registering model clf" in capsys.readouterr().out
    assert (model.name, model.version, model.id) == ("clf", 1, "clf:1")
    assert model.tags == {"area": "iris"}
    assert model.properties == {"acc": "0.97"}
    assert model.description == "first" and model.model_framework == "ScikitLearn"
    stored = Path(Model.get_model_path("clf", _workspace=ws))
    assert stored.is_file() and stored.name == "model.pkl" and stored.read_bytes() == b"weights-v1"
    # the registry holds a copy, not the user's file
    model_file.write_bytes(b"changed")
    assert stored.read_bytes() == b"weights-v1"


def test_register_a_directory(ws, model_dir):
    Model.register(ws, str(model_dir), "bundle")

    stored = Path(Model.get_model_path("bundle", 1, _workspace=ws))
    assert stored.is_dir() and stored.name == "model_dir"
    assert sorted(p.relative_to(stored).as_posix() for p in stored.rglob("*") if p.is_file()) == [
        "sub/vocab.txt", "weights.bin"]
    assert (stored / "weights.bin").read_bytes() == b"\x00\x01\x02"


def test_get_model_path_of_each_version(ws, model_file):
    Model.register(ws, str(model_file), "clf")
    model_file.write_bytes(b"weights-v2")
    Model.register(ws, str(model_file), "clf")

    assert Path(Model.get_model_path("clf", 1, _workspace=ws)).read_bytes() == b"weights-v1"
    assert Path(Model.get_model_path("clf", 2, _workspace=ws)).read_bytes() == b"weights-v2"
    assert Path(Model.get_model_path("clf", _workspace=ws)).read_bytes() == b"weights-v2"


def test_get_model_path_finds_the_workspace_from_config(ws, model_file):
    Model.register(ws, str(model_file), "clf")

    assert Path(Model.get_model_path("clf")).is_file()


def test_list_filters(ws, model_file, run):
    run.upload_file("outputs/model.pkl", str(model_file))
    Model.register(ws, str(model_file), "alpha", tags={"stage": "dev", "team": "a"}, properties={"acc": "0.9"})
    Model.register(ws, str(model_file), "alpha", tags={"stage": "prod"}, properties={"acc": "0.95"})
    Model.register(ws, str(model_file), "beta", tags={"stage": "dev"})
    run.register_model("gamma", "outputs/model.pkl")

    def ids(**filters):
        return [m.id for m in Model.list(ws, **filters)]

    assert ids() == ["alpha:2", "alpha:1", "beta:1", "gamma:1"]
    assert ids(name="alpha") == ["alpha:2", "alpha:1"]
    assert ids(tags=["team"]) == ["alpha:1"]
    assert ids(tags=["stage"]) == ["alpha:2", "alpha:1", "beta:1"]
    assert ids(tags=[["stage", "dev"]]) == ["alpha:1", "beta:1"]
    assert ids(tags=[["stage", "dev"], "team"]) == ["alpha:1"]
    assert ids(properties=[["acc", "0.95"]]) == ["alpha:2"]
    assert ids(properties=["acc"]) == ["alpha:2", "alpha:1"]
    assert ids(run_id=run.id) == ["gamma:1"]
    assert ids(latest=True) == ["alpha:2", "beta:1", "gamma:1"]
    assert ids(name="nobody") == []
    assert Model(ws, "gamma").run_id == run.id


def test_model_lookup_by_tags(ws, model_file):
    Model.register(ws, str(model_file), "alpha", tags={"stage": "dev"})
    Model.register(ws, str(model_file), "alpha", tags={"stage": "prod"})

    assert Model(ws, "alpha", tags=[["stage", "dev"]]).version == 1


def test_download_a_file_and_exist_ok(ws, model_file, tmp_path):
    model = Model.register(ws, str(model_file), "clf")
    target = tmp_path / "downloaded"

    path = Path(model.download(str(target)))

    assert path == target / "model.pkl" and path.read_bytes() == b"weights-v1"
    path.write_bytes(b"local edit")
    with pytest.raises(InvalidArgumentError) as caught:
        model.download(str(target))
    assert "exist_ok=True" in str(caught.value)
    assert path.read_bytes() == b"local edit"

    assert Path(model.download(str(target), exist_ok=True)) == path
    assert path.read_bytes() == b"weights-v1"


def test_download_a_directory(ws, model_dir, tmp_path):
    model = Model.register(ws, str(model_dir), "bundle")

    path = Path(model.download(str(tmp_path / "dl")))

    assert path == tmp_path / "dl" / "model_dir"
    assert (path / "sub" / "vocab.txt").read_text() == "a\nb\n"
    with pytest.raises(InvalidArgumentError):
        model.download(str(tmp_path / "dl"))
    (path / "weights.bin").write_bytes(b"edited")
    model.download(str(tmp_path / "dl"), exist_ok=True)
    assert (path / "weights.bin").read_bytes() == b"\x00\x01\x02"


def test_models_are_shared_by_workspaces_of_the_same_name(ws, model_file, project):
    Model.register(ws, str(model_file), "clf")

    other = Workspace.from_config(backend="process")

    assert [m.id for m in Model.list(other)] == ["clf:1"]


PARALLEL_WORKER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from amlocal.core import Model, Workspace

    go, model_path, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    ws = Workspace.from_config(backend="process")
    ws.model_registry  # open the database before the race starts
    while not go.exists():
        time.sleep(0.005)
    for _ in range(count):
        print("VERSION", Model.register(ws, model_path, "shared").version, flush=True)
""")


def test_parallel_registration_gives_every_version_once(ws, model_file, project, workspace_dir, tmp_path):
    Model.list(ws)  # the database exists before the workers open it
    go = tmp_path / "go"
    workers = [subprocess.Popen([sys.executable, "-c", PARALLEL_WORKER, str(go), str(model_file), "10"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(project))
               for _ in range(4)]
    go.touch()
    versions = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        versions += [int(line.split()[1]) for line in out.splitlines() if line.startswith("VERSION ")]

    assert sorted(versions) == list(range(1, 41))
    assert sorted(m.version for m in Model.list(ws, name="shared")) == list(range(1, 41))
    on_disk = sorted(int(p.name) for p in (workspace_dir / "models" / "shared").iterdir())
    assert on_disk == list(range(1, 41))
    for version in (1, 17, 40):
        assert Path(Model.get_model_path("shared", version, _workspace=ws)).read_bytes() == b"weights-v1"
    assert not any((workspace_dir / "models" / ".staging").iterdir())


def _assert_no_model(ws, workspace_dir, name):
    assert Model.list(ws, name=name) == []
    assert not (workspace_dir / "models" / name / "1").exists()
    staging = workspace_dir / "models" / ".staging"
    assert not staging.exists() or not any(staging.iterdir())


def test_failed_copy_leaves_no_half_model(ws, model_dir, workspace_dir, monkeypatch):
    real_copyfile = shutil.copyfile
    copied = []

    def copy_then_fail(src, dst, *args, **kwargs):
        if copied:
            raise OSError(28, "No space left on device")
        copied.append(src)
        return real_copyfile(src, dst, *args, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", copy_then_fail)
    with pytest.raises(ModelError) as caught:
        Model.register(ws, str(model_dir), "bundle")
    monkeypatch.setattr(shutil, "copyfile", real_copyfile)

    assert copied, "the copy failed before it started: the test proves nothing"
    assert str(model_dir) in str(caught.value) and "No space left on device" in str(caught.value)
    _assert_no_model(ws, workspace_dir, "bundle")
    assert Model.register(ws, str(model_dir), "bundle").version == 1


def test_unreadable_special_file_in_a_model_directory(ws, model_dir, workspace_dir):
    os.mkfifo(model_dir / "sub" / "pipe")

    with pytest.raises(ModelError) as caught:
        Model.register(ws, str(model_dir), "bundle")

    assert "pipe" in str(caught.value)
    _assert_no_model(ws, workspace_dir, "bundle")
    (model_dir / "sub" / "pipe").unlink()
    assert Model.register(ws, str(model_dir), "bundle").version == 1


def test_failed_database_insert_leaves_no_files(ws, model_file, workspace_dir, monkeypatch):
    import sqlite3

    from amlocal._local import model_registry
    from amlocal.exceptions import StoreError

    Model.register(ws, str(model_file), "clf")
    real = model_registry.string_tags
    calls = []

    def fail_while_inserting(values):
        calls.append(values)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(model_registry, "string_tags", fail_while_inserting)
    with pytest.raises(StoreError, match="disk I/O error"):
        Model.register(ws, str(model_file), "clf")
    monkeypatch.setattr(model_registry, "string_tags", real)

    assert calls, "the failure was not injected: the test proves nothing"
    assert [m.version for m in Model.list(ws, name="clf")] == [1]
    assert not (workspace_dir / "models" / "clf" / "2").exists()
    assert Model.register(ws, str(model_file), "clf").version == 2
