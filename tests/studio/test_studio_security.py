"""Who may talk to the studio and what it serves: Host check, token, CSP, contained file names,
actions only when enabled and only with the page's CSRF token. A real server on loopback."""

import json
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from http.cookies import SimpleCookie
from urllib.parse import quote

import pytest

from .real_runs import open_workspace

pytest.importorskip("uvicorn")


@contextmanager
def served(project, workspace=None, **options):
    import uvicorn

    from amlocal.studio.app import create_app
    from amlocal.studio.server import bind

    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    app = create_app(workspace or open_workspace(project), port=port, **options)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url, headers=None, data=None, method=None):
    """(status, headers, body) without following redirects."""
    request = urllib.request.Request(url, headers=headers or {}, data=data, method=method)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


@pytest.fixture(scope="module")
def project(studio_project):
    return studio_project


def test_loopback_studio_refuses_other_host_names_and_sends_a_strict_csp(project):
    directory, runs = project
    with served(directory) as (base, _):
        status, headers, _ = fetch(base + "/")
        assert status == 200
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        status, _, body = fetch(base + "/api/runs", headers={"Host": "attacker.example:80"})
        assert status == 403 and b"loopback" in body


def test_token_is_required_on_every_request_when_bound_elsewhere(project):
    directory, runs = project
    with served(directory, token="s3cret-token") as (base, _):
        assert fetch(base + "/")[0] == 401
        assert fetch(base + "/api/runs?token=wrong")[0] == 401
        status, headers, _ = fetch(base + f"/runs/{runs['first']}?tab=metrics&token=s3cret-token")
        assert status == 303
        assert headers["location"] == f"/runs/{runs['first']}?tab=metrics"           # the token leaves the URL
        cookie = headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        jar = SimpleCookie(cookie)
        name, morsel = next(iter(jar.items()))
        assert fetch(base + "/api/runs", headers={"Cookie": f"{name}={morsel.value}"})[0] == 200
        status, _, body = fetch(base + "/api/runs", headers={"Authorization": "token s3cret-token"})
        assert status == 200 and {r["run_id"] for r in json.loads(body)} >= {runs["first"], runs["failed"]}


def test_file_names_stay_inside_the_run(project):
    directory, runs = project
    run_id = runs["first"]
    with served(directory) as (base, _):
        assert fetch(base + f"/runs/{run_id}/file?name=outputs/model.txt")[0] == 200
        for name in ("../spec.json", "../../../config.json", "/etc/passwd", "outputs/../../spec.json", "a\x00b"):
            status, _, body = fetch(base + f"/runs/{run_id}/file?name={quote(name, safe='')}")
            assert status == 404, name
            status, _, _ = fetch(base + f"/runs/{run_id}/file?name={quote(name, safe='')}&snapshot=1")
            assert status == 404, name
        assert fetch(base + f"/runs/{run_id}/file?name=train_curve.py&snapshot=1")[0] == 200


def test_html_written_by_a_run_is_never_served_as_a_page(project):
    directory, runs = project
    name = "outputs/<img src=x onerror=alert(6)>.html"
    with served(directory) as (base, _):
        status, headers, body = fetch(base + f"/runs/{runs['hostile']}/file?name={quote(name, safe='')}")
        assert status == 200 and body == b"<script>alert(4)</script>"
        assert headers["content-type"] == "application/octet-stream"
        assert headers["content-disposition"].startswith("attachment")


def test_actions_are_absent_unless_enabled_and_need_the_pages_csrf_token(project):
    directory, runs = project
    run_id = runs["second"]
    with served(directory) as (base, _):
        assert fetch(base + f"/runs/{run_id}/tag?key=a&value=b")[0] == 404
        assert fetch(base + f"/runs/{run_id}/tag", data=b"key=a&value=b", method="POST")[0] in (404, 405)
    with served(directory, allow_actions=True) as (base, app):
        status, _, page = fetch(base + f"/runs/{run_id}/tag?key=reviewed&value=yes")
        assert status == 200 and b"Set tag" in page and b"reviewed" in page        # a confirmation page
        csrf = app.app.state.studio.csrf
        form = f"csrf={csrf}&key=reviewed&value=yes".encode()
        assert fetch(base + f"/runs/{run_id}/tag", data=b"key=reviewed&value=yes", method="POST")[0] == 403
        assert fetch(base + f"/runs/{run_id}/tag", data=form, method="POST",
                     headers={"Origin": "http://attacker.example"})[0] == 403
        assert "reviewed" not in open_workspace(directory).run_history.get_tags(run_id)
        status, headers, _ = fetch(base + f"/runs/{run_id}/tag", data=form, method="POST",
                                   headers={"Origin": base})
        assert status == 303
        assert open_workspace(directory).run_history.get_tags(run_id)["reviewed"] == "yes"


def test_api_answers_json_with_the_same_data_as_the_cli(project):
    import subprocess
    import sys

    directory, runs = project
    with served(directory) as (base, _):
        status, _, body = fetch(base + f"/api/runs/{runs['first']}")
    assert status == 200
    shown = subprocess.run([sys.executable, "-m", "amlocal.cli", "--config", str(directory / "config.json"),
                            "--backend", "process", "run", "show", runs["first"], "--json"],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(body) == json.loads(shown.stdout)
    with served(directory) as (base, _):
        status, _, body = fetch(base + "/api/runs?experiment=studio-demo")
    listed = subprocess.run([sys.executable, "-m", "amlocal.cli", "--config", str(directory / "config.json"),
                             "--backend", "process", "run", "list", "-e", "studio-demo", "--json"],
                            capture_output=True, text=True, timeout=60)
    assert json.loads(body) == json.loads(listed.stdout) and len(json.loads(body)) == 3


def test_a_workspace_on_azure_ml_is_served_with_a_clear_notice(project):
    from amlocal.core import Workspace
    from amlocal_azureml.fake import FakeAzureAdapter

    directory, _ = project
    workspace = Workspace.from_config(path=str(directory / "config.json"), backend="azureml",
                                      backend_options={"adapter": FakeAzureAdapter()})
    with served(directory, workspace=workspace) as (base, _):
        status, _, body = fetch(base + "/")
        assert status == 200 and b"The studio reads local workspaces" in body
        status, _, body = fetch(base + "/api/runs")
        assert status == 501 and "Azure ML's own studio shows runs on Azure" in json.loads(body)["error"]
