"""A source directory whose links lead out of it, dangle or loop: the snapshot never copies a host file."""

import os

import pytest

from amlocal import snapshot as snap


def make(root, files):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def listing(directory):
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


@pytest.fixture
def dirs(tmp_path):
    class Dirs:
        src = tmp_path / "src"
        store = tmp_path / "store"
        runs = tmp_path / "runs"

        def take(self):
            return snap.take_snapshot(self.src, self.runs / "1" / "snapshot", self.store)
    Dirs.src.mkdir()
    return Dirs()


@pytest.fixture
def linked_tree(dirs, tmp_path):
    host = tmp_path / "host"
    make(host, {"id_rsa": "HOST SECRET", "etc/passwd": "HOST SECRET"})
    make(dirs.src, {"train.py": "print(1)", "data/x.csv": "1,2", "lib/util.py": "u = 1"})
    (dirs.src / "in_file.py").symlink_to("lib/util.py")
    (dirs.src / "in_dir").symlink_to(dirs.src / "data")
    (dirs.src / "key").symlink_to(host / "id_rsa")
    (dirs.src / "etc").symlink_to(host / "etc")
    (dirs.src / ".#notes.md").symlink_to("user@host.1234:1700000000")
    (dirs.src / "data" / "loop").symlink_to("..")
    (dirs.src / "self").symlink_to("self")
    (dirs.src / "up").symlink_to("../src/lib/../../host/id_rsa")
    return host


def test_links_inside_are_kept_as_content_and_links_out_dangling_or_looping_are_skipped(dirs, linked_tree):
    report = dirs.take()
    snapshot = dirs.runs / "1" / "snapshot"
    assert listing(snapshot) == ["data/x.csv", "in_dir/x.csv", "in_file.py", "lib/util.py", "train.py"]
    assert (snapshot / "in_file.py").read_text() == "u = 1" and not (snapshot / "in_file.py").is_symlink()
    reasons = {s.name: s.reason for s in report.skipped_links}
    assert reasons == {"key": "outside the source directory", "etc": "outside the source directory",
                       "up": "outside the source directory", ".#notes.md": "dangling", "self": "a loop",
                       "data/loop": "a loop", "in_dir/loop": "a loop"}
    assert all(any(name in w for w in report.warnings) for name in reasons)
    for path in snapshot.rglob("*"):
        assert not path.is_symlink()
        if path.is_file():
            assert b"HOST SECRET" not in path.read_bytes()


def test_special_files_are_skipped_with_a_warning_without_blocking(dirs):
    make(dirs.src, {"train.py": ""})
    os.mkfifo(dirs.src / "pipe")
    report = dirs.take()
    assert listing(dirs.runs / "1" / "snapshot") == ["train.py"]
    assert any("pipe" in w and "FIFO" in w for w in report.warnings)
