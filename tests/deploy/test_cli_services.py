"""``amlocal model serve`` (the default scikit-learn scorer) and ``amlocal service ...``, as a
user types them, against real containers."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from .conftest import free_port, service_containers, unique_name

pytestmark = pytest.mark.docker


def amlocal(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "amlocal.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=dict(os.environ))


def _post(uri, body):
    request = urllib.request.Request(uri, data=body.encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_model_serve_with_the_default_scorer_then_service_commands(serving_project):
    name, port = unique_name("served"), free_port()
    served = amlocal("model", "serve", "sklearn-iris:2", "--port", port, "--name", name)
    assert served.returncode == 0, served.stderr
    uri = f"http://localhost:{port}/score"
    assert f"Scoring URI: {uri}" in served.stdout

    rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
    assert _post(uri, json.dumps({"data": rows})) == (200, {"predictions": [0, 2]})
    status, body = _post(uri, json.dumps({"data": rows, "method": "predict_proba"}))
    assert status == 200 and len(body["probabilities"][0]) == 3
    status, body = _post(uri, "not json")
    assert status == 400 and "not JSON" in body["message"]
    status, body = _post(uri, json.dumps({"data": [[1, 2]]}))
    assert status == 400 and "cannot score" in body["message"]
    status, body = _post(uri, json.dumps({"rows": rows}))
    assert status == 400 and '"data"' in body["message"]

    listed = amlocal("service", "list")
    assert listed.returncode == 0
    line = next(row for row in listed.stdout.splitlines() if row.startswith(name))
    assert "running" in line and uri in line and "sklearn-iris:2" in line

    shown = amlocal("service", "show", name, "--json")
    assert json.loads(shown.stdout)["scoringUri"] == uri

    from support import wait_until

    logs = wait_until(lambda: (lambda r: r if "POST /score 400" in r.stdout else None)(
        amlocal("service", "logs", name, "--lines", 50)), 30, "the requests in the service's log")
    assert logs.returncode == 0

    deleted = amlocal("service", "delete", name)
    assert deleted.returncode == 0 and f"Deleted service {name}" in deleted.stdout
    assert service_containers(name) == []
    missing = amlocal("service", "show", name)
    assert missing.returncode == 3 and "WebserviceNotFound" in missing.stderr


def test_model_serve_with_an_entry_script(serving_project):
    name, port = unique_name("scored"), free_port()
    served = amlocal("model", "serve", "sklearn-iris", "--entry-script", "serving/score.py", "--port", port,
                     "--name", name, "--pip", "scikit-learn==" + __import__("sklearn").__version__, "--pip", "joblib")
    assert served.returncode == 0, served.stderr
    status, body = _post(f"http://localhost:{port}/score", json.dumps({"data": [[5.1, 3.5, 1.4, 0.2]]}))
    assert status == 200 and body["model_dir"] == "/var/azureml-app/azureml-models/sklearn-iris/2"


def test_gc_removes_a_service_whose_model_vanished_only_when_asked(serving_project):
    from amlocal.core.webservice import Webservice

    ws, (model, _) = serving_project
    name = unique_name("stale")
    served = amlocal("model", "serve", "sklearn-iris:1", "--port", free_port(), "--name", name, "--no-wait")
    assert served.returncode == 0, served.stderr
    model.delete()

    assert amlocal("gc").returncode == 0
    assert len(service_containers(name)) == 1, "plain gc leaves services alone"
    planned = amlocal("gc", "--services", "--dry-run")
    assert f"would free service: {name} (model sklearn-iris:1 is no longer registered)" in planned.stdout
    assert len(service_containers(name)) == 1

    collected = amlocal("gc", "--services")
    assert collected.returncode == 0, collected.stderr
    assert service_containers(name) == []
    assert all(s.name != name for s in Webservice.list(ws))
