"""``amlocal run ...``: submit-script, list, show, logs and cancel, against real local runs."""

import json
import os
import selectors
import signal
import time

from support import open_gate

SLEEPER = """
    import time
    print('started', flush=True)
    time.sleep({seconds})
    print('woke up', flush=True)
"""

GATED = """
    print('started', flush=True)
    with open({gate!r}) as gate:  # a FIFO: blocks until the test opens it for writing
        gate.read()
    print('woke up', flush=True)
"""


def test_submit_script_completes_and_show_reports_it(cli):
    run_id, proc = cli.submit(cli.TINY_SCRIPT, "--", "--lr", "0.1")
    assert proc.returncode == 0, proc.stderr
    assert run_id.startswith("demo_")
    assert f"RunId: {run_id}" in proc.stdout
    assert "hi --lr 0.1" in proc.stdout                      # the script's output, streamed
    assert "Execution Summary" in proc.stdout

    shown = cli("run", "show", run_id)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "Completed" in next(line for line in lines if line.startswith("Status"))
    assert any(line.split() == ["x", "1"] for line in lines)
    assert any(line.strip() == "outputs/a.txt" for line in lines)
    assert "Script      train.py --lr 0.1" in shown.stdout
    timeline = shown.stdout.split("Timeline\n", 1)[1].split("\n\n", 1)[0].split()
    assert timeline[0] == "NotStarted" and "Running" in timeline and timeline[-3] == "Completed"


def test_show_json_is_get_details_with_metrics_and_files(cli):
    run_id, proc = cli.submit(cli.TINY_SCRIPT)
    assert proc.returncode == 0, proc.stderr
    shown = cli("run", "show", run_id, "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["runId"] == run_id and data["status"] == "Completed"
    assert data["metrics"] == {"x": 1}
    assert "outputs/a.txt" in data["files"]
    assert data["runDefinition"]["script"] == "train.py"
    details = json.loads(json.dumps(cli.workspace().backend.get_details(run_id)))
    assert {k: v for k, v in data.items() if k not in ("metrics", "files")} == details


def test_failing_script_exits_1_with_the_error_on_stderr(cli):
    run_id, proc = cli.submit("""
        print('about to fail')
        raise ValueError('boom from the script')
    """)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[0] == run_id
    assert "about to fail" in proc.stdout
    assert f"amlocal: error: Run {run_id} ended Failed: User program failed with exit code 1" in proc.stderr
    assert "ValueError: boom from the script" in proc.stderr  # the log tail
    assert "amlocal/cli.py" not in proc.stderr                  # no traceback of ours

    shown = cli("run", "show", run_id)
    assert shown.returncode == 0
    assert "Failed" in shown.stdout and "\nError\n" in shown.stdout
    assert "ValueError: boom from the script" in shown.stdout


def test_script_arguments_environment_variables_and_source_dir(cli):
    cli.write("pkg/helper.py", "GREETING = 'from the helper'\n")
    cli.write("pkg/jobs/train.py", """
        import os, sys
        sys.path.insert(0, '.')
        from helper import GREETING
        print(GREETING, os.environ['MY_SETTING'], sys.argv[1:])
    """)
    proc = cli("run", "submit-script", "pkg/jobs/train.py", "-e", "demo", "--source-dir", "pkg",
               "--env", "MY_SETTING=a=b", "--", "--flag", "--", "x y")
    assert proc.returncode == 0, proc.stderr
    assert "from the helper a=b ['--flag', '--', 'x y']" in proc.stdout
    # SCRIPT may also be given relative to --source-dir
    proc = cli("run", "submit-script", "jobs/train.py", "-e", "demo", "--source-dir", "pkg", "--env", "MY_SETTING=1")
    assert proc.returncode == 0, proc.stderr
    assert "from the helper 1 []" in proc.stdout


def test_no_wait_prints_only_the_run_id(cli):
    cli.write("train.py", cli.TINY_SCRIPT)
    proc = cli("run", "submit-script", "train.py", "-e", "demo", "--no-wait")
    assert proc.returncode == 0, proc.stderr
    run_id = proc.stdout.strip()
    assert proc.stdout == run_id + "\n"
    from amlocal.core import Run

    run = Run.get(cli.workspace(), run_id)
    assert run.wait_for_completion()["status"] == "Completed"


def test_run_list_newest_first_with_filters(cli):
    first, _ = cli.submit(cli.TINY_SCRIPT, experiment="exp-a")
    second, _ = cli.submit("raise SystemExit(3)", experiment="exp-b")
    listed = cli("run", "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["RUN", "ID", "EXPERIMENT", "STATUS", "CREATED", "DURATION"]
    assert [row.split()[:3] for row in rows] == [[second, "exp-b", "Failed"], [first, "exp-a", "Completed"]]
    assert rows[0].split()[-1].endswith("s")               # a duration such as 0.3s

    only_a = cli("run", "list", "-e", "exp-a").stdout.splitlines()[1:]
    assert [row.split()[0] for row in only_a] == [first]
    newest = cli("run", "list", "--limit", "1").stdout.splitlines()[1:]
    assert [row.split()[0] for row in newest] == [second]

    none = cli("run", "list", "-e", "nothing-here")
    assert none.returncode == 0 and none.stdout == "" and "No runs in experiment 'nothing-here'" in none.stderr
    assert cli("run", "list", "--limit", "0").returncode == 2


def test_run_logs_prints_every_log_in_order(cli):
    run_id, proc = cli.submit(cli.TINY_SCRIPT)
    assert proc.returncode == 0, proc.stderr
    logs = cli("run", "logs", run_id)
    assert logs.returncode == 0, logs.stderr
    headers = [line for line in logs.stdout.splitlines() if line.startswith("Streaming ")]
    assert headers[-2:] == ["Streaming azureml-logs/60_control_log.txt", "Streaming azureml-logs/70_driver_log.txt"]
    assert "Status: Completed" in logs.stdout               # the whole control log, not just its start
    assert logs.stdout.rstrip().endswith("hi")

    followed = cli("run", "logs", run_id, "--follow")
    assert followed.returncode == 0, followed.stderr
    assert f"RunId: {run_id}" in followed.stdout and "Execution Summary" in followed.stdout
    assert "hi" in followed.stdout


def test_run_logs_follow_of_a_failed_run_exits_1(cli):
    run_id, proc = cli.submit("raise SystemExit(7)")
    assert proc.returncode == 1
    followed = cli("run", "logs", run_id, "-f")
    assert followed.returncode == 1
    assert "exit code 7" in followed.stderr


def test_cancel_a_sleeping_run(cli):
    from amlocal.core import Run

    cli.write("sleep.py", SLEEPER.format(seconds=120))
    proc = cli("run", "submit-script", "sleep.py", "-e", "naps", "--no-wait")
    assert proc.returncode == 0, proc.stderr
    run_id = proc.stdout.strip()
    run = Run.get(cli.workspace(), run_id)
    cli.wait_for_status(run, {"Running"})

    canceled = cli("run", "cancel", run_id)
    assert canceled.returncode == 0, canceled.stderr
    assert canceled.stdout == "Canceled\n"
    assert run.get_status() == "Canceled"
    assert "Canceled" in cli("run", "list").stdout

    again = cli("run", "cancel", run_id)
    assert again.returncode == 0 and again.stdout == "Canceled\n" and "already ended" in again.stderr


def test_ctrl_c_stops_following_but_not_the_run(cli):
    from amlocal.core import Run

    # the job waits at a gate the test opens (the process backend runs it on this host), so Ctrl-C
    # always reaches the follower while the run still runs, however loaded the machine is
    gate = cli.cwd.parent / "gate"  # outside the source directory: a snapshot must not read it
    os.mkfifo(gate)
    cli.write("sleep.py", GATED.format(gate=str(gate)))
    proc = cli.popen("run", "submit-script", "sleep.py", "-e", "naps")
    try:
        seen = _read_until(proc, "started", timeout=60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        open_gate(gate)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    run_id = seen.splitlines()[0]
    assert f"stopped following run {run_id}" in err and "goes on" in err
    assert "Traceback" not in err
    run = Run.get(cli.workspace(), run_id)
    assert run.wait_for_completion()["status"] == "Completed"
    assert "woke up" in cli("run", "logs", run_id).stdout


def _read_until(proc, text, timeout):
    """What ``proc`` printed up to the moment it printed ``text``. Reads the pipe unbuffered: a
    buffered readline after select() could hold back lines that already arrived."""
    seen = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while text.encode() not in seen:
            assert time.monotonic() < deadline, f"no {text!r} in {seen!r}"
            if selector.select(timeout=0.5):
                chunk = os.read(proc.stdout.fileno(), 65536)
                assert chunk, f"the command ended before printing {text!r}: {seen!r}"
                seen += chunk
    return seen.decode()


def test_global_options_after_the_command_and_config_path(cli, tmp_path):
    run_id, proc = cli.submit(cli.TINY_SCRIPT)
    assert proc.returncode == 0, proc.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for config in (cli.cwd, cli.cwd / "config.json"):
        shown = cli("run", "show", run_id, "--config", config, "--backend", "process", backend=None, cwd=elsewhere)
        assert shown.returncode == 0, shown.stderr
        assert run_id in shown.stdout
    assert os.listdir(elsewhere) == []


def test_show_prints_a_data_path_argument_as_azure_shows_it(cli):
    from amlocal.core import Experiment, ScriptRunConfig

    data = cli.cwd / "data"
    data.mkdir()
    (data / "rows.csv").write_text("x\n1\n")
    cli.write("src/count.py", "import sys\nprint(sys.argv[1:])\n")
    ws = cli.workspace()
    rows = ws.get_default_datastore().upload(src_dir=str(data), target_path="rows", show_progress=False)
    config = ScriptRunConfig(source_directory=str(cli.cwd / "src"), script="count.py",
                             arguments=["--data-folder", rows.as_mount()])
    run = Experiment(ws, "demo").submit(config)
    run.wait_for_completion()

    shown = cli("run", "show", run.id)
    assert shown.returncode == 0, shown.stderr
    assert f"Script      count.py --data-folder $AZUREML_DATAREFERENCE_{rows.data_reference_name}" in shown.stdout
    assert "{" not in shown.stdout.split("Script", 1)[1].splitlines()[0]
