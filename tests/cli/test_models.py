"""``amlocal model ...`` on models registered through the Python API from a run's outputs."""

import json

import pytest


@pytest.fixture
def registered(cli):
    """Two versions of "iris-clf" (tags stage=dev, then stage=prod) and one of "other"."""
    from amlocal.core import Run

    run_id, proc = cli.submit(cli.TINY_SCRIPT)
    assert proc.returncode == 0, proc.stderr
    run = Run.get(cli.workspace(), run_id)
    run.register_model("iris-clf", "outputs/a.txt", tags={"stage": "dev"}, description="first try")
    run.register_model("iris-clf", "outputs/a.txt", tags={"stage": "prod", "owner": "ml"},
                       model_framework="ScikitLearn", model_framework_version="1.5")
    run.register_model("other", "outputs", tags={"stage": "dev"})
    return run_id


def _rows(proc):
    assert proc.returncode == 0, proc.stderr
    return [line.split() for line in proc.stdout.splitlines()[1:]]


def test_model_list(cli, registered):
    listed = cli("model", "list")
    assert listed.stdout.splitlines()[0].split() == ["NAME", "VERSION", "RUN", "ID", "CREATED", "TAGS"]
    rows = _rows(listed)
    assert [row[:3] for row in rows] == [["iris-clf", "2", registered], ["iris-clf", "1", registered],
                                         ["other", "1", registered]]
    assert rows[0][-2:] == ["stage=prod,", "owner=ml"] or rows[0][-2:] == ["owner=ml,", "stage=prod"]

    assert [row[:2] for row in _rows(cli("model", "list", "--latest"))] == [["iris-clf", "2"], ["other", "1"]]
    assert [row[:2] for row in _rows(cli("model", "list", "--name", "iris-clf"))] == [["iris-clf", "2"],
                                                                                     ["iris-clf", "1"]]
    assert [row[:2] for row in _rows(cli("model", "list", "--tag", "stage=dev"))] == [["iris-clf", "1"],
                                                                                     ["other", "1"]]
    assert [row[:2] for row in _rows(cli("model", "list", "--tag", "owner"))] == [["iris-clf", "2"]]
    assert [row[:2] for row in _rows(cli("model", "list", "--tag", "stage=dev", "--tag", "owner"))] == []

    nothing = cli("model", "list", "--name", "nope")
    assert nothing.returncode == 0 and nothing.stdout == "" and "No models named 'nope'" in nothing.stderr


def test_model_show(cli, registered):
    latest = cli("model", "show", "iris-clf")
    assert latest.returncode == 0, latest.stderr
    fields = dict(line.split(None, 1) for line in latest.stdout.splitlines())
    assert fields["Version"] == "2" and fields["Id"] == "iris-clf:2" and fields["Run"] == registered
    assert fields["Framework"] == "ScikitLearn 1.5"
    assert fields["Path"].endswith("/a.txt")

    first = cli("model", "show", "iris-clf:1", "--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert (data["name"], data["version"], data["runId"]) == ("iris-clf", 1, registered)
    assert data["tags"] == {"stage": "dev"} and data["description"] == "first try"


def test_model_download(cli, registered, tmp_path):
    target = tmp_path / "downloaded"
    got = cli("model", "download", "iris-clf:1", "--target-dir", target)
    assert got.returncode == 0, got.stderr
    path = got.stdout.strip()
    assert path == str(target / "a.txt")
    assert (target / "a.txt").read_text() == "model bytes"

    again = cli("model", "download", "iris-clf:1", "--target-dir", target)
    assert again.returncode == 2 and "already exists" in again.stderr and "--exist-ok" in again.stderr
    assert cli("model", "download", "iris-clf:1", "--target-dir", target, "--exist-ok").returncode == 0

    folder = cli("model", "download", "other")              # a directory model, into the cwd
    assert folder.returncode == 0, folder.stderr
    assert folder.stdout.strip() == "outputs/a.txt"  # as azureml's Model.download: the files' common path
    assert (cli.cwd / "outputs" / "a.txt").read_text() == "model bytes"


def test_model_not_found_and_bad_references(cli, registered):
    missing = cli("model", "show", "nope")
    assert missing.returncode == 3 and "no model named 'nope'" in missing.stderr
    no_version = cli("model", "download", "iris-clf:9")
    assert no_version.returncode == 3 and "its versions are 1, 2" in no_version.stderr
    for bad in ("iris-clf:x", "iris-clf:0", ":2"):
        proc = cli("model", "show", bad)
        assert proc.returncode == 2, bad
        assert "NAME:VERSION" in proc.stderr
    assert cli("model", "list", "--tag", "=x").returncode == 2
