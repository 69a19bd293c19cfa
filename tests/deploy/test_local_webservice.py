"""The deploy flow users write (Model.deploy to a LocalWebservice), against real containers."""

import json
import subprocess
import sys
import threading
import urllib.request

import pytest

from amlocal.core import Model
from amlocal.core.model import InferenceConfig
from amlocal.core.webservice import LocalWebservice, Webservice, WebserviceException

from .conftest import SCORE_PY, free_port, service_containers, serving_environment, unique_name

pytestmark = pytest.mark.docker
ROW = [[5.1, 3.5, 1.4, 0.2]]


def _config(environment=None, entry="score.py"):
    return InferenceConfig(entry_script=entry, source_directory="./serving",
                           environment=environment or serving_environment())


def _post(uri, body, content_type="application/json"):
    request = urllib.request.Request(uri, data=body if isinstance(body, bytes) else body.encode(),
                                     headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def test_deploy_score_logs_reload_update_delete(serving_project, capsys):
    ws, (model, model2) = serving_project
    name, port = unique_name("iris"), free_port()
    service = Model.deploy(ws, name, [model], _config(), LocalWebservice.deploy_configuration(port=port))
    service.wait_for_deployment(show_output=True)
    assert f"Local webservice is running at http://localhost:{port}" in capsys.readouterr().out
    assert isinstance(service, LocalWebservice)
    assert (service.state, service.port) == ("running", port)
    assert service.scoring_uri == f"http://localhost:{port}/score"
    assert service.swagger_uri == f"http://localhost:{port}/swagger.json"

    answer = service.run(json.dumps({"data": ROW}))
    assert answer["predictions"] == [0]
    assert answer["model_dir"] == "/var/azureml-app/azureml-models/sklearn-iris/1"
    assert _post(service.scoring_uri, json.dumps({"data": ROW}))[1]["predictions"] == [0]
    with urllib.request.urlopen(service.swagger_uri, timeout=30) as response:
        assert json.loads(response.read())["swagger"] == "2.0"
    from support import wait_until

    # the engine copies a container's output to its log a moment after the server prints it
    wait_until(lambda: "POST /score 200" in service.get_logs(), 30, "the request in the service's log")
    assert "init done" in service.get_logs(num_lines=200)

    found = Webservice(ws, name)  # a fresh object, as another process makes it
    assert isinstance(found, LocalWebservice) and found.port == port and found.state == "running"
    assert [s.name for s in Webservice.list(ws)] == [name]
    assert [s.name for s in Webservice.list(ws, model_name="sklearn-iris")] == [name]
    assert Webservice.list(ws, model_name="other") == []

    score = service._record.spec.source_directory + "/score.py"
    with open(score, "w") as handle:
        handle.write(SCORE_PY.replace('"v1"', '"v2"'))
    assert service.run({"data": ROW})["marker"] == "v1", "sources are copied when deployed"
    service.reload(wait=True)
    assert service.run({"data": ROW})["marker"] == "v2"

    service.update(models=[model2])
    assert service.state == "running" and service.port == port
    assert service.run({"data": ROW})["model_dir"] == "/var/azureml-app/azureml-models/sklearn-iris/2"
    assert len(service_containers(name)) == 1, "the replaced deployment's container is gone"

    service.delete()
    assert service.state == "deleted"
    assert service_containers(name) == []
    with pytest.raises(WebserviceException, match="WebserviceNotFound"):
        Webservice(ws, name)


def test_a_service_outlives_the_process_that_deployed_it(serving_project):
    ws, (model, _) = serving_project
    name, port = unique_name("outlive"), free_port()
    script = (
        "from amlocal.core import Workspace, Model\n"
        "from amlocal.core.model import InferenceConfig\n"
        "from amlocal.core.webservice import LocalWebservice\n"
        "from tests.deploy.conftest import serving_environment\n"
        "ws = Workspace.from_config()\n"
        f"config = InferenceConfig(entry_script='score.py', source_directory='./serving', "
        f"environment=serving_environment())\n"
        f"s = Model.deploy(ws, {name!r}, [Model(ws, 'sklearn-iris', version=1)], config, "
        f"LocalWebservice.deploy_configuration(port={port}))\n"
        "s.wait_for_deployment()\n")
    from .conftest import __file__ as conftest_path
    import os

    repo = os.path.dirname(os.path.dirname(os.path.dirname(conftest_path)))
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ, "PYTHONPATH": repo},
                   capture_output=True, timeout=300)
    service = Webservice(ws, name)
    assert service.state == "running"
    assert service.run({"data": ROW})["predictions"] == [0]


def test_redeploy_replaces_the_service_without_a_failed_request(serving_project):
    ws, (model, model2) = serving_project
    name, port = unique_name("swap"), free_port()
    service = Model.deploy(ws, name, [model], _config(), LocalWebservice.deploy_configuration(port=port))
    service.wait_for_deployment()
    outcomes, stop = [], threading.Event()

    def client():
        while not stop.is_set():
            try:
                outcomes.append(_post(service.scoring_uri, json.dumps({"data": ROW}))[1]["model_dir"][-1])
            except Exception as err:  # a refused or reset connection is what this test looks for
                outcomes.append(repr(err))

    thread = threading.Thread(target=client)
    thread.start()
    try:
        service.update(models=[model2])
        after = len(outcomes)
        from support import wait_until

        wait_until(lambda: len(outcomes) > after + 20, 30, "requests after the swap")
    finally:
        stop.set()
        thread.join(60)
    failures = [o for o in outcomes if o not in ("1", "2")]
    assert failures == []
    assert outcomes[0] == "1" and outcomes[-1] == "2"


def test_a_crashing_init_raises_with_the_log(serving_project):
    ws, (model, _) = serving_project
    import pathlib

    pathlib.Path("serving/score.py").write_text(
        "def init():\n    raise RuntimeError('cannot load the model: boom-42')\n\ndef run(data):\n    return data\n")
    service = Model.deploy(ws, unique_name("crash"), [model], _config(),
                           LocalWebservice.deploy_configuration(port=free_port()))
    with pytest.raises(WebserviceException, match="Did your init method fail") as raised:
        service.wait_for_deployment()
    assert "boom-42" in str(raised.value) and "boom-42" in raised.value.log_tail
    assert service.state == "failed"
    with pytest.raises(WebserviceException, match="Cannot call run"):
        service.run({"data": ROW})


def test_an_entry_script_that_does_not_exist(serving_project):
    with pytest.raises(WebserviceException, match="entry_script .*nope.py doesn't exist"):
        InferenceConfig(entry_script="nope.py", source_directory="./serving", environment=serving_environment())


def test_a_port_in_use_is_refused(serving_project):
    import socket

    ws, (model, _) = serving_project
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(WebserviceException, match="already in use"):
            Model.deploy(ws, unique_name("busy"), [model], _config(), LocalWebservice.deploy_configuration(port=port))


def test_bad_input_gets_an_http_error_and_the_service_keeps_serving(serving_project):
    ws, (model, _) = serving_project
    import pathlib

    pathlib.Path("serving/score.py").write_text(SCORE_PY + textwrap_slow_and_raise())
    env = serving_environment(variables={"SCORING_TIMEOUT_MS": "1500", "AMLOCAL_MAX_REQUEST_BYTES": "4096"})
    service = Model.deploy(ws, unique_name("bad"), [model], _config(env),
                           LocalWebservice.deploy_configuration(port=free_port()))
    service.wait_for_deployment()
    uri = service.scoring_uri

    status, body = _post(uri, b"this is not json {")
    assert status == 500 and "scoring script" in body["message"]
    with pytest.raises(WebserviceException, match="HTTP 500") as raised:
        service.run("this is not json {")
    assert "JSONDecodeError" in raised.value.log_tail

    status, body = _post(uri, json.dumps({"data": ROW, "pad": "x" * 10_000}))
    assert status == 413 and "exceeds" in body["message"]

    status, body = _post(uri, json.dumps({"raise": "boom-run"}))
    assert status == 500
    with pytest.raises(WebserviceException, match="Scoring was unsuccessful") as raised:
        service.run({"raise": "boom-run"})
    assert "boom-run" in raised.value.log_tail

    status, body = _post(uri, json.dumps({"sleep": 30}))
    assert status == 500 and "timeout" in body["message"].lower()

    assert service.run({"data": ROW})["predictions"] == [0]


def textwrap_slow_and_raise():
    return (
        "\n_run = run\n"
        "def run(raw_data):\n"
        "    import json, time\n"
        "    body = json.loads(raw_data)\n"
        "    if 'raise' in body:\n"
        "        raise ValueError(body['raise'])\n"
        "    if 'sleep' in body:\n"
        "        time.sleep(body['sleep'])\n"
        "    return _run(raw_data)\n")


def test_the_service_listens_on_loopback_only_and_runs_unprivileged(serving_project):
    ws, (model, _) = serving_project
    name, port = unique_name("safe"), free_port()
    service = Model.deploy(ws, name, [model], _config(), LocalWebservice.deploy_configuration(port=port))
    service.wait_for_deployment()
    listening = _listeners(port)
    assert listening == {"127.0.0.1"}
    from amlocal_docker import engine

    details = engine.connect_api().inspect_container(service_containers(name)[0])
    assert details["Config"]["User"] not in ("", "0", "0:0", "root")
    assert details["HostConfig"]["CapDrop"] == ["ALL"]
    assert "no-new-privileges:true" in details["HostConfig"]["SecurityOpt"]
    model_mounts = [m for m in details["Mounts"] if "azureml-models" in m["Destination"]]
    assert model_mounts and all(not m["RW"] for m in model_mounts)


def _listeners(port):
    """Addresses listening on TCP ``port`` (from /proc/net/tcp: this test may not connect out)."""
    found = set()
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


def test_several_models_are_laid_out_by_name_and_version(serving_project):
    ws, (model, model2) = serving_project
    import pathlib

    pathlib.Path("serving/score.py").write_text(
        "import os, json\n"
        "def init():\n    pass\n"
        "def run(raw):\n"
        "    root = os.environ['AZUREML_MODEL_DIR']\n"
        "    return {'root': root, 'files': sorted(os.path.relpath(os.path.join(d, f), root)\n"
        "            for d, _, fs in os.walk(root) for f in fs)}\n")
    service = Model.deploy(ws, unique_name("multi"), [model], _config(),
                           LocalWebservice.deploy_configuration(port=free_port()))
    service.wait_for_deployment()
    assert service.run("{}") == {"root": "/var/azureml-app/azureml-models/sklearn-iris/1", "files": ["model.joblib"]}
    service.update(models=[model, model2])  # the same entry script, now over two models
    assert service.run("{}") == {"root": "/var/azureml-app/azureml-models",
                                 "files": ["sklearn-iris/1/model.joblib", "sklearn-iris/2/model.joblib"]}


def test_an_environment_without_the_server_is_refused_and_leaves_nothing(serving_project):
    from amlocal.core import Environment

    ws, (model, _) = serving_project
    env = Environment("bare-base")
    env.python.user_managed_dependencies = True  # the base image as it is: no inference server in it
    name = unique_name("noserver")
    with pytest.raises(WebserviceException, match="no inference server"):
        Model.deploy(ws, name, [model], _config(env), LocalWebservice.deploy_configuration(port=free_port()))
    assert service_containers(name) == []
