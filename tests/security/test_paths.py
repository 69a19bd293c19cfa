"""Run file names, containment, and reading a job's tree without following links out of it."""

import os
import stat
import threading

import pytest

from amlocal.exceptions import InvalidArgumentError
from amlocal.rules import paths
from amlocal.rules.errors import (FileTooLarge, InvalidRunFileName, NotARegularFile, PathOutsideRoot,
                                  SymlinkRefused)


@pytest.mark.parametrize("name", [
    "../../../../tmp/x", "/etc/passwd", "a/../../b", "a/..", "..", "a\\..\\..\\x", "\\\\server\\share\\x",
    "C:\\x", "C:x", "c:/x", "x\0y", "a\nb", "a\rb", "\x1b[31mred", "a\u202egnp.exe", "a\x85b", "\ud800",
    "", ".", "./", "//", "/", "x" * 1025, ("a" * 256) + "/b", "/".join(["a"] * 255), None, b"a.txt", 3,
])
def test_hostile_run_file_names_are_refused(name):
    with pytest.raises(InvalidRunFileName) as caught:
        paths.run_file_name(name)
    assert isinstance(caught.value, InvalidArgumentError)


@pytest.mark.parametrize("name,normalised", [
    ("outputs/model.pkl", "outputs/model.pkl"), ("./a//b/./c", "a/b/c"), ("a\\b.txt", "a/b.txt"),
    ("modèle.pkl", "modèle.pkl"), ("a..b/c..", "a..b/c.."), ("x" * 255, "x" * 255),
    ("/".join(["a"] * 254), "/".join(["a"] * 254)), (os.path.join("a", "b"), "a/b"),
])
def test_valid_run_file_names_are_normalised(name, normalised):
    assert paths.run_file_name(name) == normalised


def test_run_file_name_cap_counts_utf8_bytes():
    assert paths.run_file_name("é" * 127)  # 254 bytes in one part
    with pytest.raises(InvalidRunFileName, match="255 bytes"):
        paths.run_file_name("é" * 128)


@pytest.fixture
def tree(tmp_path):
    """root/ with a file, a link out to a host secret, a link to a host directory, a link inside."""
    host = tmp_path / "host"
    host.mkdir()
    (host / "secret").write_text("host secret")
    root = tmp_path / "root"
    (root / "d").mkdir(parents=True)
    (root / "d" / "f.txt").write_text("inside")
    (root / "out.lnk").symlink_to(host / "secret")
    (root / "hostdir").symlink_to(host)
    (root / "in.lnk").symlink_to(root / "d" / "f.txt")
    (root / "d" / "up").symlink_to("..")
    return root, host


def test_contained_refuses_traversal_absolute_nul_and_links_leading_out(tree):
    root, host = tree
    for bad in ["../x", "d/../../x", "/etc", "x\0y", "hostdir/secret", "out.lnk", "d/up/../../host"]:
        with pytest.raises(PathOutsideRoot) as caught:
            paths.contained(root, bad)
        assert isinstance(caught.value, InvalidArgumentError)


def test_contained_accepts_paths_inside_including_new_ones_and_links_inside(tree):
    root, _ = tree
    assert paths.contained(root, "d/f.txt") == root / "d" / "f.txt"
    assert paths.contained(root, "new/dir/file") == root / "new" / "dir" / "file"
    assert paths.contained(root, "in.lnk") == root / "d" / "f.txt"
    assert paths.contained(root, "") == root and paths.contained(root, ".") == root


def test_is_within(tree):
    root, host = tree
    assert paths.is_within(root, root / "d" / "f.txt")
    assert paths.is_within(root, root)
    assert not paths.is_within(root, root / "out.lnk")
    assert not paths.is_within(root, root / "hostdir" / "secret")
    assert not paths.is_within(root, str(root) + "-sibling")
    assert not paths.is_within(root, "x\0y")


def test_open_file_under_reads_a_regular_file(tree):
    root, _ = tree
    fd = paths.open_file_under(root, "d/f.txt")
    try:
        assert os.read(fd, 100) == b"inside"
    finally:
        os.close(fd)


@pytest.mark.parametrize("name", ["out.lnk", "in.lnk", "hostdir/secret", "d/up/d/f.txt"])
def test_open_file_under_never_follows_a_link(tree, name):
    root, _ = tree
    with pytest.raises(SymlinkRefused):
        os.close(paths.open_file_under(root, name))


def test_open_file_under_refuses_a_fifo_without_blocking_and_a_directory(tree):
    root, _ = tree
    os.mkfifo(root / "pipe")
    outcome = []

    def attempt():
        try:
            os.close(paths.open_file_under(root, "pipe"))
            outcome.append("opened")
        except NotARegularFile:
            outcome.append("refused")

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert outcome == ["refused"]
    with pytest.raises(NotARegularFile):
        paths.open_file_under(root, "d")


def test_copy_file_under_copies_privately_and_refuses_links_and_bad_targets(tree, tmp_path):
    root, host = tree
    dest = tmp_path / "dest"
    assert paths.copy_file_under(root, "d/f.txt", dest, "files/f.txt") == 6
    assert (dest / "files" / "f.txt").read_text() == "inside"
    assert stat.S_IMODE((dest / "files" / "f.txt").stat().st_mode) == 0o600
    with pytest.raises(SymlinkRefused):
        paths.copy_file_under(root, "out.lnk", dest)
    with pytest.raises(InvalidRunFileName):
        paths.copy_file_under(root, "d/f.txt", dest, "../../escaped")
    assert not (tmp_path / "escaped").exists() and not (dest / "out.lnk").exists()


def test_copy_file_under_leaves_no_partial_file_when_over_the_cap(tree, tmp_path):
    root, _ = tree
    (root / "big").write_bytes(b"x" * 10_000)
    dest = tmp_path / "dest"
    with pytest.raises(FileTooLarge):
        paths.copy_file_under(root, "big", dest, max_bytes=9_999)
    assert os.listdir(dest) == []
    assert paths.copy_file_under(root, "big", dest, max_bytes=10_000) == 10_000


def test_copy_tree_under_copies_regular_files_only_and_says_what_it_skipped(tree, tmp_path):
    root, host = tree
    os.mkfifo(root / "d" / "pipe")
    (root / "d" / "bad\nname").write_text("x")
    dest = tmp_path / "dest"
    report = paths.copy_tree_under(root, "", dest, "outputs")
    assert sorted(report.copied) == [("outputs/d/f.txt", 6)]
    skipped = dict(report.skipped)
    assert set(skipped) == {"out.lnk", "hostdir", "in.lnk", "d/up", "d/pipe", "d/bad\nname"}
    assert "symbolic link" in skipped["hostdir"] and "regular" in skipped["d/pipe"]
    assert sorted(p.name for p in dest.rglob("*")) == ["d", "f.txt", "outputs"]
    assert (host / "secret").read_text() == "host secret"        # nothing moved or changed
    assert (root / "d" / "f.txt").read_text() == "inside"


def test_copy_tree_under_a_linked_directory_copies_nothing_and_keeps_the_host_files(tree, tmp_path):
    root, host = tree
    report = paths.copy_tree_under(root, "hostdir", tmp_path / "dest", "outputs")
    assert report.copied == [] and report.skipped[0][0] == "hostdir"
    assert (host / "secret").read_text() == "host secret"
    assert not (tmp_path / "dest").exists()


def test_copy_tree_under_caps_files_and_bytes(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    for i in range(5):
        (root / "f{}".format(i)).write_bytes(b"x" * 100)
    report = paths.copy_tree_under(root, "", tmp_path / "a", max_files=3)
    assert len(report.copied) == 3 and len(report.skipped) == 2
    report = paths.copy_tree_under(root, "", tmp_path / "b", max_bytes=250)
    assert report.bytes == 200 and len(report.skipped) == 3


def test_walk_under_missing_directory_yields_nothing_and_stops_at_max_depth(tmp_path):
    assert list(paths.walk_under(tmp_path, "missing")) == []
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    kinds = {e.name: e.kind for e in paths.walk_under(tmp_path, "", max_depth=2)}
    assert kinds == {"a": "dir", "a/b": "too-deep"}
