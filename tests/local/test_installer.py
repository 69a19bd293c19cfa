"""Installing environments: the plan's commands for uv and pip, which Python a build uses, and
the packages it moves when that is not the asked one (real uv, real package index)."""

import io
import subprocess
from pathlib import Path

import pytest

from amlocal._local import installer, python_versions
from amlocal.local import Interpreter, PackagePlan, Place, choose_python, find_uv, install_steps

SETTINGS = {"index_url": "https://mirror.example/simple", "extra_index_urls": ["https://extra.example/simple"],
            "trusted_hosts": ["mirror.example"], "cert": None}
PLACE = Place(venv_python="python3", prefix="/opt/env", wheels="/w", bytecode_script="/b/bytecode.py", uv="/b/uv",
              bytecode_store="/b/store", cert="/b/ca.crt", index=SETTINGS)


def plan(offline, pip_options=(), installer_name="uv"):
    return PackagePlan(("scikit-learn~=1.5.0", "joblib"), tuple(pip_options), Path("/host/wheels"), offline,
                       installer_name, "/host/uv", (), True)


def test_an_offline_uv_install_reads_only_the_wheel_cache_and_compiles_nothing_itself():
    steps, variables = install_steps(plan(offline=True), PLACE)
    venv, install, bytecode = (list(step.argv) for step in steps)
    assert venv[:2] == ["/b/uv", "venv"] and venv[-1] == "/opt/env"
    assert install[:3] == ["/b/uv", "pip", "install"]
    assert {"--no-index", "--no-compile"} <= set(install) and install[install.index("--find-links") + 1] == "/w"
    assert install[-2:] == ["scikit-learn~=1.5.0", "joblib"] and "--index-url" not in install
    assert bytecode == ["/opt/env/bin/python", "-I", "-B", "/b/bytecode.py", "restore", "--store", "/b/store"]
    assert variables["UV_PYTHON_DOWNLOADS"] == "never" and "SSL_CERT_FILE" not in variables
    assert all(step.announce for step in steps)


def test_an_index_install_is_pip_s_with_the_users_indexes_trusted_hosts_and_ca_bundle():
    steps, variables = install_steps(plan(offline=False, pip_options=["--pre"], installer_name="pip"), PLACE)
    assert steps[0].argv[:4] == ("python3", "-m", "venv", "--without-pip")
    assert "--no-compile" in steps[1].argv and "--pre" in steps[1].argv and "--no-index" not in steps[1].argv
    assert variables == {"PIP_INDEX_URL": "https://mirror.example/simple",
                         "PIP_EXTRA_INDEX_URL": "https://extra.example/simple",
                         "PIP_TRUSTED_HOST": "mirror.example", "PIP_CERT": "/b/ca.crt"}
    with pytest.raises(ValueError):
        install_steps(plan(offline=False), PLACE, installer="uv")


def test_packages_missing_from_the_wheel_cache_are_installed_by_pip_even_with_uv():
    # uv ignores the upper bounds of Requires-Python: from the index it would install releases
    # that pip, and Azure ML's image build, refuse for this Python
    log = io.StringIO()
    uv = find_uv()
    assert uv, "uv is a dev dependency"
    chosen = installer.plan_packages(["no-such-package-amlocal-test==1.0"], [], "3.11", "none", False, {}, log, uv=uv)
    assert not chosen.offline and chosen.installer == "pip"
    assert "installing with pip from the package index" in log.getvalue()


def test_the_asked_python_is_used_when_there_else_the_default_with_a_note_saying_what_to_do():
    default = Interpreter("3.11.2", "python3")
    assert choose_python("3.11", default, {}, "base image b").note is None
    assert choose_python(None, default, {}, "base image b").matches
    other = Interpreter("3.10", "python3.10")
    assert choose_python("3.10", default, {"3.10": other}, "base image b").interpreter == other
    fallback = choose_python("3.8", default, {"3.10": other}, "base image b")
    assert fallback.interpreter == default and not fallback.matches
    assert "Python 3.8" in fallback.note and "base image b" in fallback.note and "3.11.2" in fallback.note
    assert "AMLOCAL_BASE_IMAGE" in fallback.note


def test_amlocal_no_uv_turns_uv_off(monkeypatch):
    monkeypatch.setenv("AMLOCAL_NO_UV", "1")
    assert find_uv() is None


@pytest.fixture
def uv():
    found = find_uv()
    if found is None:
        pytest.skip("uv is not installed (pip install 'amlocal[uv]')")
    return found


def test_pins_without_a_wheel_for_the_python_move_to_the_nearest_release_with_one(uv, tmp_path, monkeypatch):
    monkeypatch.setenv("AMLOCAL_CACHE", str(tmp_path / "cache"))
    from amlocal.local import pip_settings

    log = io.StringIO()
    # numpy 1.22 publishes wheels up to CPython 3.10; joblib is pure Python
    adapted = python_versions.adapt_packages(["numpy~=1.22.0", "joblib~=1.2.0"], "3.11", uv, pip_settings(), log)
    numpy, joblib = adapted.packages
    assert numpy.startswith("numpy==1.23.") and joblib == "joblib~=1.2.0"
    assert len(adapted.moves) == 1 and adapted.moves[0].startswith("numpy~=1.22.0 -> numpy==1.23.")
    assert "nearest releases" in log.getvalue()

    def no_resolver(*args, **kwargs):
        raise AssertionError(f"the decision was made again: {args}")

    monkeypatch.setattr(subprocess, "run", no_resolver)  # kept: later (offline) builds need no index
    assert python_versions.adapt_packages(["numpy~=1.22.0", "joblib~=1.2.0"], "3.11", uv, {}, io.StringIO()) == adapted


def test_without_uv_pins_are_kept_as_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("AMLOCAL_CACHE", str(tmp_path / "cache"))
    adapted = python_versions.adapt_packages(["numpy~=1.22.0"], "3.11", None, {}, io.StringIO())
    assert adapted.packages == ("numpy~=1.22.0",) and adapted.moves == ()


def test_a_failed_build_for_another_python_says_what_to_do():
    choice = choose_python("3.8", Interpreter("3.11.2", "python3"), {}, "base image b")
    without_uv = PackagePlan(("numpy~=1.22.0",), (), Path("/w"), False, "pip", None)
    advice = installer.failure_advice(without_uv, choice)
    assert "Python 3.8" in advice and "amlocal[uv]" in advice and "base image with Python 3.8" in advice
    assert installer.failure_advice(without_uv, choose_python("3.11", Interpreter("3.11.2", "python3"), {}, "")) == ""
