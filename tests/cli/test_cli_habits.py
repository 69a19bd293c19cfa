"""What a new user expects of the command line: --json/--output everywhere, metric, hyperparameter
and tag columns, compare, download, --version, completion, colour only on a terminal, compute
and datastore nouns, ``amlocal init``, and error messages that name the right flag."""

import json
import os
import pty
import subprocess
import sys

LOGGING_SCRIPT = """
    import argparse
    from azureml.core import Run

    parser = argparse.ArgumentParser()
    parser.add_argument('--lr', type=float)
    args = parser.parse_args()
    run = Run.get_context()
    for step in range(3):
        run.log('loss', 1.0 / (step + 1 + args.lr), step=step)
    run.log('accuracy', 0.5 + args.lr)
    run.tag('team', 'vision')
    import os
    os.makedirs('outputs', exist_ok=True)
    open('outputs/model.txt', 'w').write(str(args.lr))
    open('outputs/notes.txt', 'w').write('notes')
"""


def _two_runs(cli):
    first, proc = cli.submit(LOGGING_SCRIPT, "--", "--lr", "0.1")
    assert proc.returncode == 0, proc.stderr
    second, proc = cli.submit(LOGGING_SCRIPT, "--", "--lr", "0.3")
    assert proc.returncode == 0, proc.stderr
    return first, second


def test_version_and_help_list_every_command_group(cli):
    version = cli("--version", backend=None)
    assert version.returncode == 0 and version.stdout.startswith("amlocal 0.")
    helped = cli("--help", backend=None).stdout
    for group in ("run", "model", "compute", "datastore", "gc", "ui", "init", "completion"):
        assert f"\n    {group} " in helped


def test_run_list_has_metric_param_and_tag_columns_and_every_output_format(cli):
    first, second = _two_runs(cli)
    table = cli("run", "list", "--metric", "accuracy", "--param", "lr", "--tag", "team")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["RUN", "ID", "EXPERIMENT", "STATUS", "CREATED", "DURATION", "lr", "accuracy",
                                "tag:team"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[second][-3:] == ["0.3", "0.8", "vision"] and rows[first][-3:] == ["0.1", "0.6", "vision"]
    assert "\033[" not in table.stdout                                  # not a terminal: no colour

    data = json.loads(cli("run", "list", "--json").stdout)
    assert [r["run_id"] for r in data] == [second, first]
    assert data[0]["metrics"] == {"accuracy": 0.8, "loss": 1.0 / 3.3} and data[0]["params"] == {"lr": 0.3}
    assert data == json.loads(cli("run", "list", "-o", "json").stdout)
    tsv = cli("run", "list", "-o", "tsv", "--metric", "accuracy").stdout.splitlines()
    assert tsv[0].split("\t") == ["RUN ID", "EXPERIMENT", "STATUS", "CREATED", "DURATION", "accuracy"]
    assert tsv[1].split("\t")[0] == second and tsv[1].split("\t")[-1] == "0.8"


def test_run_compare_puts_runs_side_by_side(cli):
    first, second = _two_runs(cli)
    compared = cli("run", "compare", first, second)
    assert compared.returncode == 0, compared.stderr
    rows = {line.split()[0]: line.split()[1:] for line in compared.stdout.splitlines()[1:]}
    assert rows["param:lr"] == ["0.1", "0.3"] and rows["metric:accuracy"] == ["0.6", "0.8"]
    assert rows["status"] == ["Completed", "Completed"]
    data = json.loads(cli("run", "compare", first, second, "--json").stdout)
    assert [r["run_id"] for r in data["runs"]] == [first, second] and data["differs"] == ["lr"]
    missing = cli("run", "compare", first, "no-such-run")
    assert missing.returncode == 3 and "No run 'no-such-run'" in missing.stderr


def test_run_download_copies_the_files_under_a_prefix(cli, tmp_path):
    first, _ = _two_runs(cli)
    target = tmp_path / "got"
    downloaded = cli("run", "download", first, "--prefix", "outputs/", "--target-dir", target)
    assert downloaded.returncode == 0, downloaded.stderr
    assert sorted(downloaded.stdout.split()) == [str(target / "outputs" / "model.txt"),
                                                 str(target / "outputs" / "notes.txt")]
    assert (target / "outputs" / "model.txt").read_text() == "0.1"
    nothing = cli("run", "download", first, "--prefix", "nope/", "--target-dir", target)
    assert nothing.returncode == 3 and "has no files under 'nope/'" in nothing.stderr


def test_colour_only_on_a_terminal_and_never_with_no_color(cli):
    _two_runs(cli)

    def on_terminal(extra_env):
        leader, follower = pty.openpty()
        process = subprocess.Popen(cli.command(["run", "list"]), cwd=str(cli.cwd), env={**cli.env, **extra_env},
                                   stdout=follower, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
        os.close(leader)
        return b"".join(chunks).decode()

    coloured = on_terminal({"TERM": "xterm"})
    assert "\033[32mCompleted" in coloured
    assert "\033[" not in on_terminal({"TERM": "xterm", "NO_COLOR": "1"})


def test_a_failed_run_prints_its_traceback_once_and_names_the_exception(cli):
    run_id, proc = cli.submit("""
        print('about to fail')
        raise ValueError('boom from the script')
    """)
    assert proc.returncode == 1
    assert (proc.stdout + proc.stderr).count("Traceback (most recent call last)") == 1
    summary = [line for line in proc.stderr.splitlines() if line.startswith("amlocal: error:")]
    assert len(summary) == 1
    assert summary[0].startswith(f"amlocal: error: Run {run_id} ended Failed: User program failed with exit code 1")
    assert summary[0].endswith("(ValueError: boom from the script)")


def test_compute_list_show_create(cli):
    empty = cli("compute", "list")
    assert empty.returncode == 0 and "No compute targets" in empty.stderr
    created = cli("compute", "create", "cpu-cluster", "--vm-size", "STANDARD_D2_V2", "--max-nodes", "2")
    assert created.returncode == 0, created.stderr
    assert "cpu-cluster: STANDARD_D2_V2" in created.stdout
    rows = cli("compute", "list").stdout.splitlines()
    assert rows[1].split() == ["cpu-cluster", "AmlCompute", "STANDARD_D2_V2", "2", "Succeeded"]
    shown = json.loads(cli("compute", "show", "cpu-cluster", "--json").stdout)
    assert (shown["name"], shown["max_nodes"], shown["vm_size"]) == ("cpu-cluster", 2, "STANDARD_D2_V2")
    missing = cli("compute", "show", "gpu-cluster")
    assert missing.returncode == 3 and "ComputeTargetNotFound" in missing.stderr


def test_datastore_list_and_upload(cli, tmp_path):
    source = tmp_path / "data"
    source.mkdir()
    (source / "iris.csv").write_text("a,b\n1,2\n")
    uploaded = cli("datastore", "upload", "--src-path", source, "--target-path", "iris")
    assert uploaded.returncode == 0, uploaded.stderr
    stores = json.loads(cli("datastore", "list", "--json").stdout)
    assert stores == [{"name": "workspaceblobstore", "type": "AzureBlob", "files": 1, "default": True}]
    ws = cli.workspace()
    assert ws.stores.datastores.list("workspaceblobstore") == ["iris/iris.csv"]


def test_init_writes_a_local_config_without_azure_ids(cli, tmp_path):
    project = tmp_path / "my-project"
    project.mkdir()
    made = cli("init", "--backend", "process", cwd=project, backend=None)
    assert made.returncode == 0, made.stderr
    config = json.loads((project / "config.json").read_text())
    assert config == {"workspace_name": "my-project", "local": True, "backend": "process"}
    again = cli("init", cwd=project, backend=None)
    assert again.returncode == 2 and "--force" in again.stderr
    listed = cli("run", "list", cwd=project, backend=None)                 # the config is usable as written
    assert listed.returncode == 0 and "No runs." in listed.stderr
    azure = cli("init", "--backend", "azureml", "--path", tmp_path / "az", cwd=project, backend=None)
    assert azure.returncode == 2 and "download the workspace's config.json" in azure.stderr
    for azure_backend in ("azureml", "azureml-v2"):                        # no invented ids go to Azure
        on_azure = cli("run", "list", cwd=project, backend=azure_backend)
        assert on_azure.returncode == 2 and "is a local workspace" in on_azure.stderr, on_azure.stderr
        assert "config.json from the Azure portal" in on_azure.stderr


def test_completion_scripts_complete_commands_and_options(cli):
    bash = cli("completion", "bash", backend=None)
    assert bash.returncode == 0
    assert subprocess.run(["bash", "-n"], input=bash.stdout, text=True).returncode == 0
    probe = bash.stdout + """
COMP_WORDS=(amlocal run ""); COMP_CWORD=2; _amlocal; echo "${COMPREPLY[*]}"
COMP_WORDS=(amlocal run list --me); COMP_CWORD=3; _amlocal; echo "${COMPREPLY[*]}"
"""
    lines = subprocess.run(["bash"], input=probe, text=True, capture_output=True).stdout.splitlines()
    assert lines[0].split() == ["cancel", "compare", "delete", "download", "list", "logs", "show", "submit-script"]
    assert lines[1] == "--metric"
    zsh = cli("completion", "zsh", backend=None).stdout
    assert "bashcompinit" in zsh and "complete -o default -F _amlocal amlocal" in zsh


def test_model_download_names_the_exist_ok_flag(cli, tmp_path):
    from amlocal.core import Run

    run_id, _ = cli.submit(cli.TINY_SCRIPT)
    Run.get(cli.workspace(), run_id).register_model("m", "outputs/a.txt")
    assert cli("model", "download", "m", "--target-dir", tmp_path).returncode == 0
    again = cli("model", "download", "m", "--target-dir", tmp_path)
    assert again.returncode == 2
    assert "--exist-ok" in again.stderr and "exist_ok=True" not in again.stderr
    models = json.loads(cli("model", "list", "--json").stdout)
    assert [(m["name"], m["version"], m["runId"]) for m in models] == [("m", 1, run_id)]
    assert cli("model", "list", "-o", "tsv").stdout.splitlines()[1].split("\t")[:3] == ["m", "1", run_id]
