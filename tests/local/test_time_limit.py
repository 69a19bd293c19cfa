"""max_run_duration_seconds: a run that outlives it is stopped and ends Canceled, as on Azure ML."""

import time

from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace


def test_a_run_over_its_time_limit_is_stopped_and_canceled(project):
    (project / "job").mkdir()
    (project / "job" / "forever.py").write_text("import time\nprint('working', flush=True)\ntime.sleep(120)\n")
    config = ScriptRunConfig(source_directory="job", script="forever.py", environment=Environment("stdlib"),
                             max_run_duration_seconds=1)
    started = time.monotonic()
    run = Experiment(Workspace.from_config(backend="process"), "limits").submit(config)
    details = run.wait_for_completion(raise_on_error=False)
    assert time.monotonic() - started < 30
    assert details["status"] == "Canceled"
    assert details["error"]["code"] == "RunTimeout"
    assert "max_run_duration_seconds" in details["error"]["message"]
    assert "working" in details["error"]["log_tail"]
