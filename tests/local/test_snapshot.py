"""Snapshot rules (ignore files as azureml, symlinks, limits), store reuse, atomicity, progress, materialize."""

import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from amlocal import snapshot as snap
from amlocal.exceptions import InvalidArgumentError, SnapshotException


def make(root, files):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def listing(directory):
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


@pytest.fixture
def dirs(tmp_path):
    class Dirs:
        src = tmp_path / "src"
        store = tmp_path / "store"
        runs = tmp_path / "runs"
        count = 0

        def take(self, **kwargs):
            Dirs.count += 1
            kwargs.setdefault("racy_seconds", 0)
            return snap.take_snapshot(self.src, self.runs / str(Dirs.count) / "snapshot", self.store, **kwargs)
    Dirs.src.mkdir()
    return Dirs()


def test_amlignore_wins_over_gitignore_and_nested_ignore_files_do_not_count(dirs):
    make(dirs.src, {".amlignore": "*.csv\n", ".gitignore": "*.txt\n", "a.csv": "1", "a.txt": "2",
                    "sub/.gitignore": "*.py\n", "sub/x.py": "3"})
    report = dirs.take()
    assert report.ignore_file == ".amlignore"
    assert listing(dirs.runs / "1" / "snapshot") == [".amlignore", ".gitignore", "a.txt", "sub/.gitignore", "sub/x.py"]


def test_gitignore_is_used_when_there_is_no_amlignore(dirs):
    make(dirs.src, {".gitignore": "*.txt\n.venv/\n", "a.txt": "2", "train.py": "x", ".venv/lib/big.so": "x" * 100})
    report = dirs.take()
    assert report.ignore_file == ".gitignore"
    assert listing(dirs.runs / "1" / "snapshot") == [".gitignore", "train.py"]
    assert not (dirs.runs / "1" / "snapshot" / ".venv").exists()


def test_gitignore_semantics_anchors_directories_and_negation(dirs):
    make(dirs.src, {".amlignore": "*.log\n/build\ndata/\n!data/keep.txt\ndocs/**/*.md\n",
                    "x.log": "", "sub/y.log": "", "build/a": "", "sub/build/b": "", "data/drop.bin": "",
                    "data/keep.txt": "", "docs/a/b.md": "", "docs/readme.rst": "", "train.py": ""})
    dirs.take()
    assert listing(dirs.runs / "1" / "snapshot") == [".amlignore", "data/keep.txt", "docs/readme.rst",
                                                     "sub/build/b", "train.py"]


def test_amlocal_always_leaves_out_caches_and_the_runs_own_top_level_directories(dirs):
    make(dirs.src, {".git/config": "", "worktree/.git": "gitdir: x", "__pycache__/m.pyc": "", "pkg/m.pyc": "",
                    "pkg/__init__.py": "", "nb/.ipynb_checkpoints/a.ipynb": "", "outputs/old.pkl": "",
                    "logs/old.log": "", "azureml-logs/70_driver_log.txt": "", "src/outputs/parser.py": "",
                    "src/logs/__init__.py": "", ".azureml/config.json": "{}"})
    dirs.take()
    assert listing(dirs.runs / "1" / "snapshot") == [".azureml/config.json", "pkg/__init__.py",
                                                     "src/logs/__init__.py", "src/outputs/parser.py"]


@pytest.mark.parametrize("negations", ["!keep.tmp\n!lib/keep.py\n", ""], ids=["with-negations", "without"])
def test_ignore_rules_match_azureml_own_implementation(dirs, negations):
    ignore_file = pytest.importorskip("azureml._project.ignore_file")
    make(dirs.src, {
        ".amlignore": "# comment\n*.tmp\n/top-only\nnested/**/deep\nlib/\n\\#hash\n*.[oa]\nmodels/*.bin\n"
                      "**/cache/**\n*~\n.env\n[Bb]in/\n" + negations,
        "a.tmp": "", "keep.tmp": "", "top-only/x": "", "sub/top-only/x": "", "nested/a/b/deep/f": "",
        "nested/deep": "", "lib/x.py": "", "lib/keep.py": "", "#hash": "", "m.o": "", "m.c": "",
        "models/a.bin": "", "models/sub/b.bin": "", "train.py": "", "sub/x.a": "", "a/cache/b/c": "",
        "cache/d": "", "notes.txt~": "", ".env": "", "sub/.env/x": "", "Bin/x": "", "sub/bin/y": "", "bin": ""})
    dirs.take()
    exclude = ignore_file.get_project_ignore_file(str(dirs.src)).is_file_excluded
    expected = []
    for directory, subdirs, names in os.walk(dirs.src):   # as azureml's merkle tree walks
        subdirs[:] = [d for d in subdirs if not exclude(os.path.join(directory, d))]
        expected += [os.path.relpath(os.path.join(directory, n), dirs.src) for n in names
                     if not exclude(os.path.normpath(os.path.join(directory, n)))]
    assert listing(dirs.runs / "1" / "snapshot") == sorted(expected)


def test_an_ignore_file_with_an_invalid_pattern_is_refused_naming_it(dirs):
    make(dirs.src, {".amlignore": "ok\nspace\\ \n", "train.py": ""})
    with pytest.raises(InvalidArgumentError, match=r"\.amlignore .*not a gitignore pattern"):
        dirs.take()


def test_over_azure_limits_warns_naming_the_largest_entries(dirs, monkeypatch):
    monkeypatch.setattr(snap, "SNAPSHOT_MAX_FILES", 3)
    make(dirs.src, {"train.py": "x", "data/a.bin": b"0" * 5000, "data/b.bin": b"0" * 3000, "model.pt": b"0" * 4000})
    report = dirs.take()
    assert report.files == 4
    warning = [w for w in report.warnings if "Azure ML's limits" in w]
    assert len(warning) == 1
    assert warning[0].index("data/") < warning[0].index("model.pt") < warning[0].index("train.py")
    assert report.largest[0] == ("data/", 8000)


def test_strict_mode_raises_azureml_own_errors(dirs, monkeypatch):
    client = pytest.importorskip("azureml._restclient.snapshots_client")
    make(dirs.src, {"a.bin": b"0" * 3000, "b.bin": b"0" * 10})
    monkeypatch.setattr(snap, "SNAPSHOT_MAX_SIZE_BYTES", 2000)
    monkeypatch.setattr(client, "SNAPSHOT_MAX_SIZE_BYTES", 2000)
    with pytest.raises(client.SnapshotException) as theirs:
        client.SnapshotsClient._validate_snapshot_size(None, os.path.realpath(dirs.src), lambda p: False, True)
    with pytest.raises(SnapshotException) as ours:
        dirs.take(strict=True)
    assert str(ours.value) == theirs.value.message
    assert not any(dirs.runs.rglob("snapshot"))

    monkeypatch.setattr(snap, "SNAPSHOT_MAX_SIZE_BYTES", 10_000)
    monkeypatch.setattr(snap, "SNAPSHOT_MAX_FILES", 1)
    with pytest.raises(SnapshotException, match="Your project exceeds the file limit of 1"):
        dirs.take(strict=True)
    monkeypatch.setenv("AML_SNAPSHOT_NO_FILE_LIMIT", "1")
    assert dirs.take(strict=True).files == 2


def test_an_unchanged_tree_is_linked_from_the_store_without_reading_a_file(dirs):
    make(dirs.src, {"train.py": "a", "data/x.csv": "b" * 1000, "run.sh": "#!/bin/sh\n"})
    os.chmod(dirs.src / "run.sh", 0o755)
    first = dirs.take()
    assert (first.files, first.hashed, first.copied) == (3, 3, 3)
    second = dirs.take()
    assert (second.files, second.hashed, second.copied, second.linked) == (3, 0, 0, 3)
    assert os.path.realpath(dirs.runs / "2" / "snapshot") == os.path.realpath(dirs.runs / "1" / "snapshot")
    one, two = dirs.runs / "1" / "snapshot", dirs.runs / "2" / "snapshot"
    for name in listing(one):
        assert os.stat(one / name).st_ino == os.stat(two / name).st_ino
        assert stat.S_IMODE(os.stat(one / name).st_mode) in (0o444, 0o555)
    assert stat.S_IMODE(os.stat(two / "run.sh").st_mode) == 0o555


def test_a_changed_file_is_seen_even_with_its_size_and_mtime_put_back(dirs):
    make(dirs.src, {"train.py": "version 1"})
    info = os.stat(dirs.src / "train.py")
    dirs.take()
    (dirs.src / "train.py").write_text("version 2")
    os.utime(dirs.src / "train.py", ns=(info.st_atime_ns, info.st_mtime_ns))
    report = dirs.take()
    assert report.hashed == 1
    assert (dirs.runs / "2" / "snapshot" / "train.py").read_text() == "version 2"
    assert (dirs.runs / "1" / "snapshot" / "train.py").read_text() == "version 1"


def test_files_changed_just_now_are_not_trusted_to_the_stat_cache(dirs):
    make(dirs.src, {"train.py": "x"})
    dirs.take(racy_seconds=60)
    assert dirs.take(racy_seconds=60).hashed == 1


def test_same_content_in_two_files_is_stored_once(dirs):
    make(dirs.src, {"a.txt": "same", "b/c.txt": "same"})
    report = dirs.take()
    assert (report.copied, report.linked) == (1, 1)
    assert len([p for p in (dirs.store / "objects").rglob("*") if p.is_file()]) == 1


def test_an_interrupted_snapshot_leaves_no_snapshot_and_no_partial_directory(dirs):
    make(dirs.src, {"f{}.txt".format(i): str(i) for i in range(50)})

    def interrupt(progress):
        if progress.files_done == 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        dirs.take(progress=interrupt)
    assert os.listdir(dirs.runs / "1") == []


def test_a_killed_snapshot_leaves_only_a_recognisable_partial_directory(dirs, tmp_path):
    make(dirs.src, {"f{}.txt".format(i): str(i) for i in range(20)})
    marker = tmp_path / "started"
    script = textwrap.dedent("""
        import pathlib, sys, time
        from amlocal.snapshot import take_snapshot
        def block(progress):
            if progress.files_done == 1:   # mid-way: the first file is in, the rest not yet
                pathlib.Path(sys.argv[4]).touch()
                time.sleep(600)
        take_snapshot(sys.argv[1], sys.argv[2], sys.argv[3], progress=block)
    """)
    target = dirs.runs / "run" / "snapshot"
    child = subprocess.Popen([sys.executable, "-c", script, str(dirs.src), str(target), str(dirs.store), str(marker)])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert not os.path.lexists(target) and os.listdir(target.parent) == []
    trees = dirs.store / "trees"
    left = os.listdir(trees)
    assert len(left) == 1 and left[0].startswith(snap.PARTIAL_PREFIX)
    assert snap.remove_partial_snapshots(trees, older_than_seconds=3600) == []
    assert len(snap.remove_partial_snapshots(trees, older_than_seconds=0)) == 1
    assert os.listdir(trees) == []


def test_progress_goes_from_nothing_to_everything(dirs):
    make(dirs.src, {"f{}.txt".format(i): "x" * i for i in range(30)})
    seen = []
    dirs.take(progress=seen.append)
    assert (seen[0].files_done, seen[0].bytes_done) == (0, 0)
    assert (seen[-1].files_done, seen[-1].files_total) == (30, 30)
    assert seen[-1].bytes_done == seen[-1].bytes_total == sum(range(30))
    assert [p.files_done for p in seen] == sorted(p.files_done for p in seen)
    assert "30 of 30 files" in seen[-1].line()


def test_bad_source_and_existing_snapshot_are_clear_errors(dirs, tmp_path):
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        snap.take_snapshot(tmp_path / "missing", tmp_path / "s", dirs.store)
    make(dirs.src, {"a": "1"})
    (tmp_path / "taken").mkdir()
    with pytest.raises(FileExistsError):
        snap.take_snapshot(dirs.src, tmp_path / "taken", dirs.store)


def test_materialize_copies_are_writable_and_independent_links_share_the_store(dirs, tmp_path):
    make(dirs.src, {"train.py": "print(1)", "pkg/run.sh": "#!/bin/sh\n", "empty/.keep": ""})
    os.chmod(dirs.src / "pkg" / "run.sh", 0o755)
    dirs.take()
    snapshot = dirs.runs / "1" / "snapshot"
    copies = snap.materialize(snapshot, tmp_path / "work", link=False)
    assert (copies.files, copies.copied, copies.linked) == (3, 3, 0)
    work = tmp_path / "work"
    assert listing(work) == listing(snapshot)
    assert stat.S_IMODE(os.stat(work / "train.py").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(work / "pkg" / "run.sh").st_mode) == 0o755
    (work / "train.py").write_text("changed by the job")
    assert (snapshot / "train.py").read_text() == "print(1)"
    links = snap.materialize(snapshot, tmp_path / "work2", link=True)
    assert (links.linked, links.copied) == (3, 0)
    assert os.stat(tmp_path / "work2" / "train.py").st_ino == os.stat(snapshot / "train.py").st_ino


def test_prune_store_removes_only_objects_no_snapshot_uses(dirs):
    make(dirs.src, {"a.txt": "keep", "b.txt": "drop"})
    dirs.take()
    (dirs.src / "b.txt").unlink()
    dirs.take()
    assert snap.prune_store(dirs.store) == (0, 0)      # both runs still use their trees
    shutil.rmtree(dirs.runs / "1")                      # what deleting a run does
    assert snap.prune_store(dirs.store) == (1, 4)
    assert (dirs.runs / "2" / "snapshot" / "a.txt").read_text() == "keep"
    assert len(os.listdir(dirs.store / "trees")) == 2   # run 2's tree and its marker
