"""The studio, tested as a person uses it: real runs made with the ``process`` backend, the real
``amlocal ui`` command serving them, and Debian's Chromium driven by Playwright.

`make test` installs Chromium (apt) and sets AMLOCAL_REQUIRE_BROWSER=1: without a browser these
tests then fail instead of skipping.
"""

import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import default_sigint

from .real_runs import make_runs, make_workspace

CHROMIUM = os.environ.get("AMLOCAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(os.environ.get("AMLOCAL_STUDIO_SCREENSHOTS", "/tmp/amlocal-studio-screenshots"))
URL_LINE = re.compile(r"^\s+(http://\S+)$")


def _missing(what):
    message = f"{what}; `make test` installs it (apt-get install chromium; pip install 'amlocal[ui]' playwright)"
    if os.environ.get("AMLOCAL_REQUIRE_BROWSER") == "1":
        pytest.fail(message + " — AMLOCAL_REQUIRE_BROWSER=1 forbids skipping", pytrace=False)
    pytest.skip(message)


@dataclass
class RunningStudio:
    url: str
    runs: dict
    project: Path
    process: subprocess.Popen

    def __call__(self, path):
        return self.url.rstrip("/") + path


def start_studio(project, *options):
    """``amlocal ui --port 0 --no-browser`` for the project; returns (process, URL printed)."""
    command = [sys.executable, "-m", "amlocal.cli", "--config", str(Path(project) / "config.json"),
               "--backend", "process", "ui", "--port", "0", "--no-browser", *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               stdin=subprocess.DEVNULL, preexec_fn=default_sigint)
    deadline = time.monotonic() + 30
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = URL_LINE.match(line.rstrip("\n"))
        if match:
            return process, match.group(1)
    process.kill()
    raise AssertionError(f"amlocal ui printed no URL: {''.join(lines)}{process.stderr.read()}")


def stop_studio(process):
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def studio_project(tmp_path_factory):
    project = make_workspace(tmp_path_factory.mktemp("studio") / "project")
    return project, make_runs(project)


@pytest.fixture(scope="session")
def studio(studio_project):
    if importlib.util.find_spec("starlette") is None or importlib.util.find_spec("uvicorn") is None:
        _missing("the ui extra is not installed")
    project, runs = studio_project
    process, url = start_studio(project)
    yield RunningStudio(url, runs, project, process)
    stop_studio(process)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        _missing(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser page; the test fails if the page logged an error (a script error, a
    refused Content-Security-Policy, a missing file) or opened a dialog."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" else None)
    page.on("dialog", lambda dialog: (problems.append(f"dialog opened: {dialog.message}"), dialog.dismiss()))
    page.default_timeout = 15000
    page.set_default_timeout(15000)
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()
    assert not problems, problems
