"""``amlocal ui`` as a command: what it prints, the record run links read, a busy port."""

import subprocess
import sys

from amlocal.studio import links

from .conftest import start_studio, stop_studio


def test_amlocal_ui_records_itself_for_run_links_and_refuses_a_busy_port(studio_project):
    project, runs = studio_project
    workspace_dir = project / "home" / "studio-ws"
    process, url = start_studio(project)
    try:
        assert url.startswith("http://127.0.0.1:") and "token" not in url
        assert links.run_url(workspace_dir, runs["first"]) == f"{url}runs/{runs['first']}"
        port = url.rstrip("/").rsplit(":", 1)[1]
        busy = subprocess.run([sys.executable, "-m", "amlocal.cli", "--config", str(project / "config.json"),
                               "ui", "--port", port, "--no-browser"], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
        assert busy.returncode == 4, busy.stderr
        assert f"Port {port} on 127.0.0.1 is already in use" in busy.stderr and "--port 0" in busy.stderr
    finally:
        stop_studio(process)
    assert process.returncode == 0, process.stderr.read()
    assert links.running_studio(workspace_dir) is None
    assert "amlocal ui" in links.web_view_text(workspace_dir, runs["first"])


def test_a_non_loopback_host_prints_a_token(studio_project):
    project, _ = studio_project
    # 127.0.0.2 is loopback: no token. The token path is exercised in test_studio_security.
    process, url = start_studio(project, "--host", "127.0.0.2")
    stop_studio(process)
    assert url.startswith("http://127.0.0.2:") and "token" not in url
