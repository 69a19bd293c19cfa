"""``run.wait_for_completion`` on a run that ends Canceled or Failed does what azureml's
``Run.wait_for_completion`` does (checked by running the SDK's own method over a stub run), on
the Azure fake."""

import io
import textwrap
from contextlib import redirect_stdout

import pytest
from azureml.core import Run as SdkRun
from azureml.exceptions import ActivityFailedException as SdkActivityFailed

from amlocal.core import Environment, Experiment, ScriptRunConfig
from amlocal.exceptions import ActivityFailedException
from support import wait_until


class StubSdkRun:
    """Just enough of an azureml Run for the SDK's wait_for_completion: it ends ``final``."""

    def __init__(self, final):
        self.final = final

    _run_id = id = "run-1"

    def get_status(self):
        return self.final

    def get_details(self):
        details = {"runId": self.id, "status": self.final, "logFiles": {}}
        if self.final == "Failed":
            details["error"] = {"error": {"code": "UserError", "message": "boom"}}
        return details

    def get_portal_url(self):
        return "https://ml.azure.com/runs/run-1"

    _get_logs = staticmethod(lambda details: {})
    _stream_run_output = SdkRun._stream_run_output  # the SDK's own streaming loop

    @staticmethod
    def _wait_before_polling(seconds):
        return 0


@pytest.mark.parametrize("show_output", [False, True])
def test_the_sdk_returns_for_canceled_and_raises_for_failed(show_output):
    with redirect_stdout(io.StringIO()):
        details = SdkRun.wait_for_completion(StubSdkRun("Canceled"), show_output=show_output)
        assert details["status"] == "Canceled"
        with pytest.raises(SdkActivityFailed):
            SdkRun.wait_for_completion(StubSdkRun("Failed"), show_output=show_output)
        assert SdkRun.wait_for_completion(StubSdkRun("Failed"), show_output=show_output,
                                          raise_on_error=False)["status"] == "Failed"


def submit(ws, project, name, body):
    folder = project / name
    folder.mkdir()
    (folder / "job.py").write_text(textwrap.dedent(body))
    config = ScriptRunConfig(source_directory=str(folder), script="job.py", environment=Environment("stdlib"))
    return Experiment(ws, name).submit(config)


@pytest.mark.parametrize("show_output", [False, True])
def test_a_canceled_run_returns_its_details(ws, project, show_output):
    run = submit(ws, project, f"cancel-{show_output}", """
        import time
        print("started", flush=True)
        time.sleep(300)
        """)
    wait_until(lambda: run.get_status() == "Running", 120, "the run to be Running")
    run.cancel()
    out = io.StringIO()
    with redirect_stdout(out):
        details = run.wait_for_completion(show_output=show_output)
    assert details["status"] == "Canceled" == run.get_status()
    assert details["error"]["code"] == "Canceled"
    if show_output:
        assert "Execution Summary" in out.getvalue()


def test_a_failed_run_still_raises(ws, project):
    run = submit(ws, project, "fails", "raise SystemExit(3)\n")
    with pytest.raises(ActivityFailedException) as raised, redirect_stdout(io.StringIO()):
        run.wait_for_completion()
    assert raised.value.status == "Failed"
    assert run.wait_for_completion(raise_on_error=False)["status"] == "Failed"
