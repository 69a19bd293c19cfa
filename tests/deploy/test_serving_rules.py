"""The serving rules that need no container: names, the serving environment, what a
deployment copies, what is shown of a service's log."""

import os

import pytest

from amlocal.core.webservice import Webservice, WebserviceException
from amlocal.serving import (ModelMount, ServiceSpec, copy_app_sources, model_dir_variable, printable,
                             serving_environment)
from amlocal.specs import EnvironmentSpec


@pytest.mark.parametrize("name", ["ab", "Upper-case", "1starts-with-digit", "ends-with-", "x" * 33, "../../etc",
                                  "under_score"])
def test_service_names_follow_azures_rule(project, name):
    from amlocal.core import Workspace

    from amlocal.core.webservice._deploy import check_service_name

    with pytest.raises(WebserviceException, match="service name is invalid"):
        check_service_name(name)
    with pytest.raises(WebserviceException, match="WebserviceNotFound"):
        Webservice(Workspace.from_config(backend="docker"), name)


def test_the_server_is_added_unless_the_environment_lists_it():
    plain = EnvironmentSpec(name="e", pip_packages=("scikit-learn",))
    assert serving_environment(plain).pip_packages == ("scikit-learn", "azureml-inference-server-http")
    with_defaults = EnvironmentSpec(name="e", pip_packages=("azureml-defaults",))
    assert serving_environment(with_defaults).pip_packages == ("azureml-defaults", "azureml-inference-server-http")
    for given in ("azureml-inference-server-http==1.5.1", "azureml_inference_server_http>=1.4"):
        spec = EnvironmentSpec(name="e", pip_packages=("scikit-learn", given))
        assert serving_environment(spec) == spec


def test_model_dir_is_the_version_directory_of_one_model_else_the_models_root():
    one = (ModelMount("iris", 3, "/r/model.joblib"),)
    assert model_dir_variable(one) == "/var/azureml-app/azureml-models/iris/3"
    assert one[0].container_path == "/var/azureml-app/azureml-models/iris/3/model.joblib"
    assert model_dir_variable(one + (ModelMount("other", 1, "/r/dir"),)) == "/var/azureml-app/azureml-models"


def test_sources_are_copied_without_links_that_leave_them(tmp_path):
    source = tmp_path / "serving"
    (source / "pkg").mkdir(parents=True)
    (source / "score.py").write_text("def init(): pass\ndef run(d): return d\n")
    (source / "pkg" / "helper.py").write_text("X = 1\n")
    (tmp_path / "secret.txt").write_text("host secret")
    os.symlink(tmp_path / "secret.txt", source / "leak.txt")
    os.symlink(source / "pkg" / "helper.py", source / "alias.py")
    spec = ServiceSpec(name="svc", entry_script="score.py", source_directory=str(source),
                       environment=EnvironmentSpec(name="e"))
    skipped = copy_app_sources(spec, tmp_path / "copy")
    assert skipped == ["leak.txt"]
    assert sorted(p.relative_to(tmp_path / "copy").as_posix() for p in (tmp_path / "copy").rglob("*")) == [
        "alias.py", "pkg", "pkg/helper.py", "score.py"]
    assert not (tmp_path / "copy" / "alias.py").is_symlink()


def test_log_text_is_shown_without_terminal_escapes():
    hostile = "ok\x1b[2J\x1b]0;title\x07 line\r\nnext\x00\tend\n"
    assert printable(hostile) == "ok0;title line\nnext\tend\n"
