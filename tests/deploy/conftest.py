"""Fixtures of the web service tests: real containers on the real engine, one serving image
for the whole session (built once, then every deployment reuses it), a workspace per test
with two registered versions of an iris model, and no service left behind."""

import json
import os
import shutil
import socket
import sys
import textwrap

import pytest

SERVING_PACKAGES = None


def sklearn_version():
    import sklearn

    return sklearn.__version__


def serving_environment(name="iris-serving", variables=None):
    """The host's scikit-learn (so the pickles load) and joblib: the same packages amlocal's
    default scorer asks for a ScikitLearn model of that version, so one image serves both."""
    from amlocal.core import Environment

    env = Environment(name)
    for package in (f"scikit-learn=={sklearn_version()}", "joblib"):
        env.python.conda_dependencies.add_pip_package(package)
    env.environment_variables = dict(variables or {})
    return env


SCORE_PY = textwrap.dedent('''
    import json, os
    import joblib

    def init():
        global model
        model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.joblib"))
        print("init done, model dir", os.environ["AZUREML_MODEL_DIR"])

    def run(raw_data):
        data = json.loads(raw_data)["data"]
        return {"predictions": model.predict(data).tolist(), "model_dir": os.environ["AZUREML_MODEL_DIR"],
                "marker": "v1"}
''')


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def serving_image(base_image, tmp_path_factory):
    """Build (or find) the serving image once, with the builder every deployment uses."""
    from amlocal_docker import engine
    from amlocal_docker.image import EnvironmentImage

    from amlocal.serving import serving_environment as with_server
    from amlocal.specs import replace

    spec = with_server(replace(serving_environment()._spec(), base_image=base_image))
    log = (tmp_path_factory.mktemp("build") / "build.log").open("w")
    try:
        return EnvironmentImage(spec, engine.connect_api()).prepare(log)
    finally:
        log.close()


@pytest.fixture(scope="session")
def iris_model_files(tmp_path_factory):
    """Two iris models pickled on the host: an SVC, then a logistic regression (predict_proba)."""
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    root = tmp_path_factory.mktemp("models")
    features, labels = load_iris(return_X_y=True)
    paths = []
    for version, estimator in ((1, SVC(kernel="linear")), (2, LogisticRegression(max_iter=1000))):
        directory = root / f"v{version}"
        directory.mkdir()
        joblib.dump(estimator.fit(features, labels), directory / "model.joblib")
        paths.append(directory / "model.joblib")
    return paths


@pytest.fixture
def serving_project(project, serving_image, iris_model_files):
    """The user's project: config.json, ./serving/score.py, two registered model versions.
    Every service of the workspace is deleted afterwards."""
    from amlocal.core import Model, Workspace

    (project / "serving").mkdir()
    (project / "serving" / "score.py").write_text(SCORE_PY)
    ws = Workspace.from_config()
    models = [Model.register(ws, str(path), "sklearn-iris", model_framework="ScikitLearn",
                             model_framework_version=sklearn_version()) for path in iris_model_files]
    yield ws, models
    from amlocal.core.webservice import Webservice

    for service in Webservice.list(ws):
        service.delete()


def service_containers(name):
    """Ids of the engine's containers labelled as service ``name`` (any workspace of the test)."""
    from amlocal_docker import engine

    return [c["Id"] for c in engine.connect_api().list_containers(labels=[f"amlocal.service={name}"])]


def unique_name(prefix):
    """A service name no other test (or other session on this engine) uses."""
    return f"{prefix}-{os.urandom(3).hex()}"
