"""The backend contract: behaviour every backend must have, as a user of the Azure ML article
sees it. A backend opts in by subclassing ``BackendContract`` (or ``LocalBackendContract``)
and overriding the ``workspace`` fixture; ``status_order`` may name its service's documented
order of statuses (Azure ML SDK v1's by default).

Every job here needs only the standard library, so the suite runs without building an
environment and without the network.
"""

import io
import textwrap
import time
from contextlib import redirect_stdout

import pytest

from ..core import Environment, Experiment, Run, ScriptRunConfig
from ..core.compute import AmlCompute, ComputeTarget
from ..exceptions import ActivityFailedException, ComputeTargetException, ModelPathNotFoundException, RunNotFoundError
from ..rules import statuses

def stdlib_config(project, name, body, **options):
    """A ScriptRunConfig of a script needing no packages, written to ``project/scripts/name``."""
    folder = project / "scripts"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(body))
    return ScriptRunConfig(source_directory=str(folder), script=name, environment=Environment("stdlib"), **options)


def wait_for_status(run, wanted, timeout=300):
    """Poll ``run`` until its status is in ``wanted`` (a str or a collection); the statuses seen,
    in order. Fails when the run ends elsewhere or the deadline passes."""
    wanted = {wanted} if isinstance(wanted, str) else set(wanted)
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = run.get_status()
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in wanted:
            return seen
        if status in statuses.TERMINAL:
            raise AssertionError(f"run {run.id} ended {status} before reaching {sorted(wanted)}: {seen}")
        time.sleep(0.02)
    raise AssertionError(f"run {run.id} did not reach {sorted(wanted)} in {timeout} s; statuses seen: {seen}")


def cluster(ws, name, max_nodes):
    try:
        return ComputeTarget(workspace=ws, name=name)
    except ComputeTargetException:
        target = ComputeTarget.create(ws, name, AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2",
                                                                                       max_nodes=max_nodes))
        target.wait_for_completion(show_output=False)
        return target


class BackendContract:
    """Override the ``workspace`` fixture: a Workspace on the backend under test, in
    ``amlocal_project`` (the current directory, holding its config.json). Statuses must follow
    the order the backend declares (``ExecutionBackend.status_order``: Azure ML v1's unless it
    stands for a service that documents another)."""

    @pytest.fixture
    def workspace(self, amlocal_project):
        raise NotImplementedError("a backend's contract class gives the workspace fixture")

    def _submit(self, ws, project, name, body, **options):
        return Experiment(ws, "contract").submit(stdlib_config(project, name, body, **options))

    # -- submitting and following --------------------------------------------------------------
    def test_submit_returns_at_once_and_the_run_goes_on(self, workspace, amlocal_project):
        started = time.monotonic()
        run = self._submit(workspace, amlocal_project, "slow.py", "import time; time.sleep(2); print('done')\n")
        assert time.monotonic() - started < 2, "submit must not wait for the job"
        assert run.get_status() not in statuses.TERMINAL
        assert run.wait_for_completion()["status"] == statuses.COMPLETED

    def test_statuses_move_only_forward_in_the_service_order(self, workspace, amlocal_project):
        run = self._submit(workspace, amlocal_project, "quick.py", "print('quick')\n")
        seen = wait_for_status(run, statuses.TERMINAL)
        assert seen[-1] == statuses.COMPLETED
        order = (*workspace.backend.status_order, statuses.COMPLETED)
        assert seen == [s for s in order if s in seen], f"out of order: {seen}"
        timeline = [status for status, _ in run.get_details()["statusTimeline"]]
        assert timeline == [s for s in order if s in timeline], f"timeline out of order: {timeline}"

    def test_show_output_streams_like_azure(self, workspace, amlocal_project):
        run = self._submit(workspace, amlocal_project, "hello.py", "print('hello from the job')\n")
        out = io.StringIO()
        with redirect_stdout(out):
            details = run.wait_for_completion(show_output=True)
        text = out.getvalue()
        assert details["status"] == statuses.COMPLETED
        assert text.startswith(f"RunId: {run.id}\nWeb View: ")
        assert "Streaming " in text and "hello from the job" in text
        assert text.index("hello from the job") < text.index("Execution Summary\n=================")

    def test_unknown_run_id_raises_run_not_found(self, workspace):
        with pytest.raises(RunNotFoundError):
            Run.get(workspace, "contract_1700000000_00000000").get_status()

    # -- what a script records -------------------------------------------------------------------
    def test_unmodified_script_logs_every_kind(self, workspace, amlocal_project):
        run = self._submit(workspace, amlocal_project, "log_all.py", """
            import os
            from azureml.core.run import Run
            run = Run.get_context()
            run.log("loss", 0.5)
            run.log("loss", 0.25)
            run.log("once", 7)
            run.log_list("folds", [1, 2])
            run.log_list("folds", [3])
            run.log_row("curve", x=1, y=2)
            run.log_row("curve", x=2, y=4)
            run.log_row("single", a=1)
            run.log_table("table", {"a": [1, 2], "b": [3, 4]})
            run.tag("stage", "dev")
            run.set_tags({"team": "ml"})
            os.makedirs("outputs", exist_ok=True)
            open("outputs/notes.txt", "w").write("done")
            open("extra.txt", "w").write("uploaded")
            run.upload_file("uploads/extra.txt", "extra.txt")
            os.makedirs("logs", exist_ok=True)
            open("logs/trace.txt", "w").write("trace")
            """)
        run.wait_for_completion()
        metrics = run.get_metrics()
        assert metrics["loss"] == [0.5, 0.25] and metrics["once"] == 7
        assert metrics["folds"] == [1, 2, 3]
        assert metrics["curve"] == {"x": [1, 2], "y": [2, 4]}
        assert metrics["single"] == {"a": 1}
        assert metrics["table"] == {"a": [1, 2], "b": [3, 4]}
        assert {"stage": "dev", "team": "ml"}.items() <= run.get_tags().items()
        assert {"outputs/notes.txt", "uploads/extra.txt", "logs/trace.txt"} <= set(run.get_file_names())

    def test_failing_script_fails_with_reason_and_keeps_outputs(self, workspace, amlocal_project):
        run = self._submit(workspace, amlocal_project, "boom.py", """
            import os
            os.makedirs("outputs", exist_ok=True)
            open("outputs/partial.txt", "w").write("written before the failure")
            raise RuntimeError("the training diverged")
            """)
        with pytest.raises(ActivityFailedException) as raised:
            run.wait_for_completion()
        assert raised.value.status == statuses.FAILED and "Activity Failed" in str(raised.value)
        error = run.get_details()["error"]
        assert error["message"] and "the training diverged" in error["log_tail"]
        assert "outputs/partial.txt" in run.get_file_names()
        assert run.wait_for_completion(raise_on_error=False)["status"] == statuses.FAILED

    def test_register_model_path_not_in_run_lists_files(self, workspace, amlocal_project):
        run = self._submit(workspace, amlocal_project, "writer.py", """
            import os
            os.makedirs("outputs", exist_ok=True)
            open("outputs/model.bin", "w").write("weights")
            """)
        run.wait_for_completion()
        with pytest.raises(ModelPathNotFoundException) as raised:
            run.register_model(model_name="m", model_path="outputs/missing.bin")
        assert "outputs/model.bin" in str(raised.value)
        assert run.register_model(model_name="m", model_path="outputs/model.bin").version == 1

    def test_datastore_paths_reach_the_script(self, workspace, amlocal_project):
        data = amlocal_project / "data"
        data.mkdir()
        (data / "rows.csv").write_text("x\n1\n2\n3\n")
        ds = workspace.get_default_datastore()
        ds.upload(src_dir=str(data), target_path="rows", overwrite=True, show_progress=False)
        config = stdlib_config(amlocal_project, "count_rows.py", """
            import argparse, os
            from azureml.core import Run
            parser = argparse.ArgumentParser()
            parser.add_argument("--mounted")
            parser.add_argument("--downloaded")
            args = parser.parse_args()
            run = Run.get_context()
            for label, folder in (("mounted", args.mounted), ("downloaded", args.downloaded)):
                with open(os.path.join(folder, "rows.csv")) as f:
                    run.log(label + "_rows", sum(1 for _ in f) - 1)
            """)
        mounted, downloaded = ds.path("rows").as_mount(), ds.path("rows").as_download()
        config.arguments = ["--mounted", mounted, "--downloaded", downloaded]
        run = Experiment(workspace, "contract").submit(config)
        run.wait_for_completion()
        assert run.get_metrics() == {"mounted_rows": 3, "downloaded_rows": 3}
        definition = run.get_details().get("runDefinition")  # SDK v1's; an SDK v2 job has a command instead
        if definition is not None:
            assert definition["arguments"] == ["--mounted", str(mounted), "--downloaded", str(downloaded)]
            assert str(mounted) != str(downloaded)

    # -- stopping ----------------------------------------------------------------------------------
    def test_cancel_stops_the_job_and_a_second_cancel_is_a_no_op(self, workspace, amlocal_project):
        run = self._submit(workspace, amlocal_project, "sleeper.py", "import time; time.sleep(300)\n")
        wait_for_status(run, statuses.RUNNING)
        started = time.monotonic()
        run.cancel()
        details = run.wait_for_completion(raise_on_error=False)
        assert details["status"] == statuses.CANCELED and time.monotonic() - started < 30
        run.cancel()
        assert run.get_status() == statuses.CANCELED

    def test_cancel_of_a_finished_run_is_a_no_op(self, workspace, amlocal_project):
        run = self._submit(workspace, amlocal_project, "quick.py", "print('quick')\n")
        run.wait_for_completion()
        run.cancel()
        assert run.get_status() == statuses.COMPLETED

    def test_a_run_over_its_time_limit_ends_canceled(self, workspace, amlocal_project):
        run = self._submit(workspace, amlocal_project, "forever.py", "import time; time.sleep(300)\n",
                           max_run_duration_seconds=1)
        details = run.wait_for_completion(raise_on_error=False)
        assert details["status"] == statuses.CANCELED
        assert "max_run_duration_seconds" in details["error"]["message"]

    def test_runs_of_a_one_node_target_wait_for_each_other(self, workspace, amlocal_project):
        target = cluster(workspace, "one-node", max_nodes=1)
        runs = [self._submit(workspace, amlocal_project, f"nap{i}.py", "import time; time.sleep(1)\n",
                             compute_target=target) for i in range(2)]
        for run in runs:
            run.wait_for_completion()
        spans = []
        for run in runs:
            timeline = dict(run.get_details()["statusTimeline"])
            spans.append((timeline[statuses.RUNNING], timeline[statuses.FINALIZING]))
        (first_start, first_end), (second_start, second_end) = sorted(spans)
        assert second_start >= first_end, f"two runs ran at once on a one-node target: {spans}"


class LocalBackendContract(BackendContract):
    """What a backend built on ``amlocal.local.LocalBackend`` must also do."""

    def test_a_killed_supervisor_s_run_is_adopted_and_finishes(self, workspace, amlocal_project):
        import os
        import signal

        run = self._submit(workspace, amlocal_project, "nap.py", """
            import os, time
            time.sleep(2)
            os.makedirs("outputs", exist_ok=True)
            open("outputs/done.txt", "w").write("slept")
            """)
        wait_for_status(run, statuses.RUNNING)
        pids = supervisor_pids(run.id)
        assert pids, "no supervisor process found"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        details = run.wait_for_completion()
        assert details["status"] == statuses.COMPLETED
        assert "outputs/done.txt" in run.get_file_names()


def pids_matching(matches):
    """Pids of this machine's processes whose command line (a list of bytes, one per argument)
    ``matches``; a process that ends while it is read is left out."""
    from amlocal.local import command_lines

    return [pid for pid, command in command_lines() if matches(command)]


def supervisor_pids(run_id):
    """Pids of the processes supervising ``run_id`` on this machine: a supervisor process holds
    the run's ``supervisor.lock`` open while it follows the run (one process may follow several
    runs of a compute target, one after another, so its command line may name another run)."""
    import os

    from amlocal.local import command_lines

    lock = f"/runs/{run_id}/supervisor.lock"
    found = []
    for pid, command in command_lines():
        if b"amlocal._local.supervisor" not in command:
            continue
        try:
            descriptors = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for descriptor in descriptors:
            try:
                opened = os.readlink(f"/proc/{pid}/fd/{descriptor}")
            except OSError:
                continue
            if opened.endswith(lock):
                found.append(pid)
                break
    return found