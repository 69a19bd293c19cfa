"""What wait_for_completion(show_output=True) prints: every line of each streamed log, once."""

import io
from contextlib import redirect_stdout

from amlocal._local.run_history import BUILD_LOG, DRIVER_LOG
from amlocal._show_output import RunOutputFollower
from amlocal.core import Experiment, Run


def test_follower_prints_every_line_of_each_log_in_turn_and_a_last_line_without_newline(ws):
    run = Experiment(ws, "follow").start_logging()
    history = ws.run_history
    files = history.layout.run_files(run.id)
    (files / "azureml-logs").mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    follower = RunOutputFollower(Run.get(ws, run.id), out=out)
    follower.start()

    build = files / BUILD_LOG
    build.write_text("build 1\n")
    follower.poll()
    with open(build, "a") as log:            # written before the driver log begins,
        log.write("build 2\nbuild 3\n")      # not yet seen by the follower
    (files / DRIVER_LOG).write_text("driver 1\n")
    follower.poll()
    with open(files / DRIVER_LOG, "a") as log:
        log.write("driver 2\nno newline at the end")
    run.complete()
    follower.finish(run.get_details())

    text = out.getvalue()
    for line in ("build 1", "build 2", "build 3", "driver 1", "driver 2", "no newline at the end"):
        assert text.count(line) == 1, line
    assert text.index("build 3") < text.index(f"Streaming {DRIVER_LOG}") < text.index("driver 1")
    assert "60_control_log" not in text
