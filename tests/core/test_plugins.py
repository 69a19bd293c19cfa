"""The backend registry: built-in names, third-party entry points, helpful import failures, and
imports that stay light and free of cycles."""

import importlib.util
import subprocess
import sys
import textwrap

import pytest

from amlocal import _plugins
from amlocal.core import Workspace
from amlocal.exceptions import BackendUnavailableError, UnknownBackendError

from .conftest import write_config


@pytest.fixture
def fresh_registry(monkeypatch):
    monkeypatch.setattr(_plugins, "_loaded", {})
    monkeypatch.setattr(_plugins, "_targets", None)


@pytest.fixture
def third_party(tmp_path, monkeypatch, fresh_registry):
    """A backend package installed by someone else, advertised through the entry-point group."""
    package = tmp_path / "site"
    package.mkdir()
    (package / "amlocal_test_thirdparty.py").write_text(textwrap.dedent("""
        from amlocal.local import LocalBackend

        class ThirdPartyBackend(LocalBackend):
            name = "thirdparty"

            def prepare_environment(self, environment, build_log, should_stop):
                return {}

            def launch(self, prepared, job, on_created):
                raise NotImplementedError

            def reattach(self, handle, job):
                return None
    """))
    monkeypatch.syspath_prepend(str(package))
    monkeypatch.delitem(sys.modules, "amlocal_test_thirdparty", raising=False)
    real = _plugins._entry_points
    monkeypatch.setattr(_plugins, "_entry_points", lambda: {
        **real(), "thirdparty": "amlocal_test_thirdparty:ThirdPartyBackend",
        "broken": "amlocal_test_not_installed_anywhere:Backend"})
    yield
    sys.modules.pop("amlocal_test_thirdparty", None)


def test_installed_package_advertises_its_backends():
    advertised = _plugins._entry_points()

    assert advertised["docker"] == "amlocal_docker:LocalDockerBackend"
    assert advertised["process"] == "amlocal_process:LocalProcessBackend"


def test_builtin_names_resolve(fresh_registry):
    from amlocal_docker import LocalDockerBackend
    from amlocal_process import LocalProcessBackend

    assert _plugins.get_backend_class("process") is LocalProcessBackend
    assert _plugins.get_backend_class("docker") is LocalDockerBackend


def test_third_party_backend_is_found_by_name(third_party, project):
    backend_class = _plugins.get_backend_class("thirdparty")

    assert backend_class.__name__ == "ThirdPartyBackend"
    assert "thirdparty" in _plugins.known_backends()
    write_config(project)
    ws = Workspace.from_config(backend="thirdparty")
    assert ws.backend_name == "thirdparty"
    assert isinstance(ws.backend, backend_class)


def test_unknown_name_lists_third_party_backends_too(third_party):
    with pytest.raises(UnknownBackendError) as caught:
        _plugins.get_backend_class("nope")

    assert {"docker", "process", "azureml", "thirdparty", "broken"} <= set(caught.value.known)
    assert "thirdparty" in str(caught.value)


def test_third_party_backend_whose_import_fails(third_party):
    with pytest.raises(BackendUnavailableError) as caught:
        _plugins.get_backend_class("broken")

    message = str(caught.value)
    assert "'broken'" in message
    assert "install the package that provides amlocal_test_not_installed_anywhere" in message


def test_builtin_backend_whose_import_fails_names_the_install_command(fresh_registry, monkeypatch, project):
    monkeypatch.setitem(sys.modules, "amlocal_azureml", None)  # any import of it fails

    with pytest.raises(BackendUnavailableError) as caught:
        _plugins.get_backend_class("azureml")
    assert "pip install 'amlocal[azure]'" in str(caught.value)

    write_config(project, backend="azureml")
    with pytest.raises(BackendUnavailableError, match=r"amlocal\[azure\]"):
        Workspace.from_config()


def _plugin_modules():
    modules = ["amlocal_docker", "amlocal_process"]
    for optional in ("amlocal_azureml", "amlocal_azureml_v2"):
        if importlib.util.find_spec(optional) is not None:
            modules.append(optional)
    return modules


def _fresh_import(statement):
    return subprocess.run([sys.executable, "-c", statement], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("module", _plugin_modules() + [
    "amlocal.core", "amlocal.core.compute", "amlocal.core.compute_target", "amlocal.train.sklearn",
    "amlocal.local", "amlocal._local.supervisor", "amlocal._local.dispatcher", "amlocal.cli"])
def test_module_imports_first_in_a_fresh_interpreter(module):
    result = _fresh_import(f"import {module}")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("module", ["amlocal.core", "amlocal.core.compute", "amlocal.train.sklearn",
                                    "amlocal_process"])
def test_core_imports_no_heavy_dependency(module):
    result = _fresh_import(
        f"import sys, {module}\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & {'docker', 'sklearn', 'azureml'})))")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
