"""The host-side wheel cache: downloaded once, then reused without asking pip again."""

import io
import subprocess

from amlocal._local import wheel_cache as packages


def test_wheels_are_downloaded_once_then_found_without_pip(tmp_path, monkeypatch):
    monkeypatch.setenv("AMLOCAL_CACHE", str(tmp_path / "cache"))
    first = io.StringIO()
    directory, ok = packages.download_wheels(["joblib"], [], "3.11.2", first)
    assert ok, first.getvalue()
    assert any(p.name.startswith("joblib-") and p.suffix == ".whl" for p in directory.iterdir())

    def no_pip(*args, **kwargs):
        raise AssertionError(f"pip was run again: {args}")

    monkeypatch.setattr(subprocess, "run", no_pip)
    monkeypatch.setattr(subprocess, "Popen", no_pip)
    second = io.StringIO()
    assert packages.download_wheels(["joblib"], [], "3.11.2", second) == (directory, True)
    assert "in the wheel cache" in second.getvalue()


def test_a_package_that_does_not_exist_is_not_ok_and_the_log_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("AMLOCAL_CACHE", str(tmp_path / "cache"))
    log = io.StringIO()
    _, ok = packages.download_wheels(["amlocal-no-such-package-xyz==9.9.9"], [], "3.11.2", log)
    assert not ok
    assert "amlocal-no-such-package-xyz" in log.getvalue()
