"""Exit codes and messages: 2 usage or bad input, 3 not found, 4 store unavailable; every amlocal
error is one ``amlocal: error: ...`` message, never a traceback."""

import pytest


def _error(proc, code):
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return proc.stderr


def test_no_config_json_lists_the_searched_paths(cli, tmp_path):
    nowhere = tmp_path / "no-workspace"
    nowhere.mkdir()
    message = _error(cli("run", "list", cwd=nowhere), 2)
    assert message.startswith("amlocal: error: No workspace configuration file found. Searched:")
    assert str(nowhere / ".azureml" / "config.json") in message
    assert str(nowhere / "config.json") in message


def test_config_option_that_does_not_exist(cli):
    message = _error(cli("--config", cli.cwd / "missing.json", "model", "list", backend=None), 2)
    assert "missing.json: no such file or directory" in message


def test_invalid_config_json(cli):
    (cli.cwd / "config.json").write_text("{not json")
    assert "is not valid JSON" in _error(cli("run", "list"), 2)


def test_unknown_backend_lists_the_known_ones(cli):
    message = _error(cli("run", "list", backend="nope"), 2)
    assert "Unknown backend 'nope'" in message
    assert "docker" in message and "process" in message
    # also as an option of submit-script, after the command
    cli.write("train.py", "print(1)")
    message = _error(cli("run", "submit-script", "train.py", "-e", "demo", "--backend", "nope", backend=None), 2)
    assert "Unknown backend 'nope'" in message


def test_submit_script_bad_input(cli):
    assert "Script 'missing.py' not found" in _error(cli("run", "submit-script", "missing.py", "-e", "demo"), 2)
    cli.write("a/train.py", "print(1)")
    cli.write("b/other.py", "print(1)")
    message = _error(cli("run", "submit-script", "a/train.py", "-e", "demo", "--source-dir", "b"), 2)
    assert "outside the source directory" in message
    assert "no such directory" in _error(cli("run", "submit-script", "a/train.py", "-e", "demo",
                                             "--source-dir", "nope"), 2)
    assert "expected KEY=VALUE" in _error(cli("run", "submit-script", "a/train.py", "-e", "demo", "--env", "X"), 2)
    assert "Invalid experiment name" in _error(cli("run", "submit-script", "a/train.py", "-e", "bad name!"), 2)
    assert "Cannot read pip requirements" in _error(cli("run", "submit-script", "a/train.py", "-e", "demo",
                                                        "--pip-requirements", "nope.txt"), 2)
    assert "ComputeTargetNotFound" in _error(cli("run", "submit-script", "a/train.py", "-e", "demo",
                                                 "--compute-target", "cpu-cluster"), 3)  # 3: not found
    # script arguments need "--"
    assert "unrecognized arguments: --lr" in _error(cli("run", "submit-script", "a/train.py", "-e", "demo",
                                                        "--lr", "1"), 2)
    assert "required: -e/--experiment" in _error(cli("run", "submit-script", "a/train.py"), 2)


@pytest.mark.parametrize("args", [(), ("run",), ("model", "frobnicate"), ("run", "list", "--", "x"),
                                  ("run", "show")])
def test_usage_errors(cli, args):
    assert "usage: amlocal" in _error(cli(*args), 2)


def test_unknown_run_id_is_not_found(cli):
    for command in ("show", "logs", "cancel"):
        message = _error(cli("run", command, "no-such-run"), 3)
        assert message.startswith("amlocal: error: No run 'no-such-run'")


def test_corrupted_store_is_unavailable(cli):
    database = cli.home / "cli-ws" / "amlocal.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"this is not a database" * 100)
    message = _error(cli("model", "list"), 4)
    assert "is corrupted" in message


def test_help_works_without_a_workspace(cli, tmp_path):
    for args in (("--help",), ("run", "submit-script", "--help"), ("model", "download", "--help")):
        proc = cli(*args, cwd=tmp_path)
        assert proc.returncode == 0 and "exit codes:" in proc.stdout
    assert "-- SCRIPT_ARGS" in cli("run", "submit-script", "--help").stdout


def test_main_returns_the_code_in_process(cli, capsys, monkeypatch):
    """``main`` can be called from Python too (the console script does)."""
    from amlocal.cli import main

    monkeypatch.chdir(cli.cwd)
    assert main(["--backend", "process", "run", "show", "nope"]) == 3
    assert "No run 'nope'" in capsys.readouterr().err
    assert main(["--backend", "process", "run", "list"]) == 0
    with pytest.raises(SystemExit) as usage:
        main(["run", "bogus"])
    assert usage.value.code == 2


def test_unavailable_backend(cli, tmp_path):
    cli.write("train.py", "print(1)")
    cli.env["DOCKER_HOST"] = f"unix://{tmp_path}/no-engine.sock"
    message = _error(cli("run", "submit-script", "train.py", "-e", "demo", backend="docker"), 4)
    assert message.startswith("amlocal: error: No Docker engine answers")
    # reading the history needs no engine
    assert cli("run", "list", backend="docker").returncode == 0
