"""The workspace's default datastore: upload and download with azureml's progress lines."""

from pathlib import Path

import pytest

from amlocal.core import Datastore
from amlocal.exceptions import InvalidArgumentError


@pytest.fixture
def data(project):
    directory = project / "data"
    (directory / "nested").mkdir(parents=True)
    (directory / "train.csv").write_text("a,b\n1,2\n")
    (directory / "nested" / "test.csv").write_text("a,b\n3,4\n")
    return directory


def _files(root):
    root = Path(root)
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_default_datastore(ws):
    ds = ws.get_default_datastore()

    assert ds.name == "workspaceblobstore"
    assert Datastore.get(ws, "workspaceblobstore").name == ds.name
    assert list(ws.datastores) == ["workspaceblobstore"]


def test_upload_prints_progress_and_copies(ws, data, capsys, tmp_path):
    ds = ws.get_default_datastore()

    reference = ds.upload(src_dir=str(data), target_path="iris", overwrite=False, show_progress=True)

    out = capsys.readouterr().out
    assert "Uploading an estimated of 2 files" in out
    assert "1 files out of an estimated total of 2" in out and "2 files out of an estimated total of 2" in out
    assert "Uploaded 2 files" in out
    assert reference.path_on_datastore == "iris"
    ds.download(str(tmp_path / "back"), prefix="iris", show_progress=False)
    assert _files(tmp_path / "back") == ["iris/nested/test.csv", "iris/train.csv"]
    assert (tmp_path / "back" / "iris" / "train.csv").read_text() == "a,b\n1,2\n"


def test_upload_without_overwrite_skips_existing_files(ws, data, capsys, tmp_path):
    ds = ws.get_default_datastore()
    ds.upload(src_dir=str(data), target_path="iris", show_progress=False)
    (data / "train.csv").write_text("changed\n")
    (data / "extra.csv").write_text("new\n")

    ds.upload(src_dir=str(data), target_path="iris", overwrite=False, show_progress=True)

    out = capsys.readouterr().out
    assert "Skipping upload for iris/train.csv" in out
    assert "Uploaded 1 files" in out
    ds.download(str(tmp_path / "v1"), prefix="iris", show_progress=False)
    assert (tmp_path / "v1" / "iris" / "train.csv").read_text() == "a,b\n1,2\n"
    assert (tmp_path / "v1" / "iris" / "extra.csv").read_text() == "new\n"

    ds.upload(src_dir=str(data), target_path="iris", overwrite=True, show_progress=False)
    ds.download(str(tmp_path / "v2"), prefix="iris", show_progress=False)
    assert (tmp_path / "v2" / "iris" / "train.csv").read_text() == "changed\n"


def test_upload_without_progress_prints_nothing(ws, data, capsys):
    ws.get_default_datastore().upload(src_dir=str(data), target_path="quiet", show_progress=False)

    assert capsys.readouterr().out == ""


def test_download_with_a_prefix(ws, data, capsys, tmp_path):
    ds = ws.get_default_datastore()
    ds.upload(src_dir=str(data), target_path="iris", show_progress=False)
    ds.upload(src_dir=str(data), target_path="other", show_progress=False)

    count = ds.download(target_path=str(tmp_path / "dl"), prefix="iris/nested", show_progress=True)

    assert count == 1
    assert _files(tmp_path / "dl") == ["iris/nested/test.csv"]
    assert "Downloading 1 files" in capsys.readouterr().out
    assert ds.download(target_path=str(tmp_path / "everything"), show_progress=False) == 4


def test_upload_of_a_missing_directory(ws, project):
    with pytest.raises(InvalidArgumentError) as caught:
        ws.get_default_datastore().upload(src_dir=str(project / "no-data"), target_path="x")

    assert "no-data" in str(caught.value) and "no such directory" in str(caught.value)


def test_upload_files_keeps_paths_relative_to_the_root(ws, data, tmp_path):
    ds = ws.get_default_datastore()

    ds.upload_files([str(data / "train.csv"), str(data / "nested" / "test.csv")], relative_root=str(data),
                    target_path="flat", show_progress=False)

    ds.download(str(tmp_path / "dl"), prefix="flat", show_progress=False)
    assert _files(tmp_path / "dl") == ["flat/nested/test.csv", "flat/train.csv"]


def test_upload_outside_the_datastore_is_refused(ws, data):
    with pytest.raises(InvalidArgumentError, match=r"'\.\."):
        ws.get_default_datastore().upload(src_dir=str(data), target_path="../escape", show_progress=False)
