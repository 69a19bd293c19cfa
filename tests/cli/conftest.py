"""The ``amlocal`` command, run as a subprocess against a fresh workspace per test.

Runs use the process backend (no Docker needed); environments are cached in a directory shared
by the test sessions, so a run without pip packages costs well under a second.
"""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support import default_sigint

CACHE = Path(os.environ.get("AMLOCAL_TEST_CACHE") or Path.home() / ".cache" / "amlocal-test")
WORKSPACE_NAME = "cli-ws"

class Cli:
    """``amlocal ...`` in ``cwd`` with a private AMLOCAL_HOME; ``backend`` is passed as the
    global --backend option unless None."""

    #: logs x=1, writes outputs/a.txt, prints "hi" and its arguments
    TINY_SCRIPT = """
        import os, sys
        from azureml.core import Run

        run = Run.get_context()
        run.log('x', 1)
        os.makedirs('outputs', exist_ok=True)
        with open('outputs/a.txt', 'w') as f:
            f.write('model bytes')
        print('hi', *sys.argv[1:])
    """

    def __init__(self, cwd, home):
        self.cwd = Path(cwd)
        self.home = Path(home)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AMLOCAL_")}
        self.env.update(AMLOCAL_HOME=str(self.home), AMLOCAL_CACHE=str(CACHE), PYTHONUNBUFFERED="1")

    def command(self, args, backend="process"):
        options = ["--backend", backend] if backend else []
        return [sys.executable, "-m", "amlocal.cli", *options, *map(str, args)]

    def __call__(self, *args, backend="process", cwd=None, timeout=120):
        return subprocess.run(self.command(args, backend), cwd=str(cwd or self.cwd), env=self.env,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def popen(self, *args, backend="process"):
        return subprocess.Popen(self.command(args, backend), cwd=str(self.cwd), env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                preexec_fn=default_sigint)

    def write(self, name, code):
        path = self.cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code))
        return path

    def submit(self, script_code, *options, name="train.py", experiment="demo"):
        """Submit ``script_code`` and wait; returns (run id, completed process)."""
        self.write(name, script_code)
        proc = self(*["run", "submit-script", name, "-e", experiment, *options])
        return proc.stdout.splitlines()[0] if proc.stdout else None, proc

    @staticmethod
    def wait_for_status(run, wanted, timeout=60):
        deadline = time.monotonic() + timeout
        status = run.get_status()
        while status not in wanted and time.monotonic() < deadline:
            time.sleep(0.05)
            status = run.get_status()
        assert status in wanted, f"run {run.id} is {status}, expected one of {wanted}"
        return status

    def workspace(self):
        """The same workspace through the Python API (for what the CLI does not do, such as
        registering a model)."""
        from amlocal.core import Workspace

        return Workspace.from_config(path=str(self.cwd), backend="process")


@pytest.fixture
def cli(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    (project / "config.json").write_text(json.dumps(
        {"subscription_id": "sub", "resource_group": "rg", "workspace_name": WORKSPACE_NAME}))
    home = tmp_path / "home"
    monkeypatch.setenv("AMLOCAL_HOME", str(home))
    monkeypatch.setenv("AMLOCAL_CACHE", str(CACHE))
    monkeypatch.delenv("AMLOCAL_BACKEND", raising=False)
    return Cli(project, home)

