"""The real azureml-core in the container: ``Model.get_model_path`` finds the model where Azure
lays it out. Slow: its first build installs azureml-core and its dependencies. (azureml-core
itself, not azureml-defaults: a wheel-only resolution of azureml-defaults settles on 1.0.45,
whose azureml-core needs pkg_resources; the README says so.)"""

import json

import pytest

from amlocal.core import Environment, Model
from amlocal.core.model import InferenceConfig
from amlocal.core.webservice import LocalWebservice

from .conftest import free_port, sklearn_version, unique_name

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SCORE = '''
import json
import joblib
from azureml.core.model import Model

def init():
    global model, path
    path = Model.get_model_path("sklearn-iris")
    model = joblib.load(path)

def run(raw_data):
    return {"path": path, "predictions": model.predict(json.loads(raw_data)["data"]).tolist()}
'''


def test_get_model_path_works_inside_the_container(serving_project):
    ws, (_, model2) = serving_project
    import pathlib

    pathlib.Path("serving/score.py").write_text(SCORE)
    env = Environment("iris-azureml-core")
    from importlib.metadata import version

    # pinned: an unpinned name may resolve to an old wheel already in the wheel cache
    for package in (f"scikit-learn=={sklearn_version()}", "joblib", f"azureml-core=={version('azureml-core')}"):
        env.python.conda_dependencies.add_pip_package(package)
    config = InferenceConfig(entry_script="score.py", source_directory="./serving", environment=env)
    service = Model.deploy(ws, unique_name("defaults"), [model2], config,
                           LocalWebservice.deploy_configuration(port=free_port()))
    service.wait_for_deployment()
    answer = service.run(json.dumps({"data": [[5.1, 3.5, 1.4, 0.2]]}))
    assert answer == {"path": "/var/azureml-app/azureml-models/sklearn-iris/2/model.joblib", "predictions": [0]}
