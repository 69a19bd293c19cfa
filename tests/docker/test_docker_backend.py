"""What only the docker backend does, checked on the real engine: images, containers, limits."""

import subprocess
import sys
import textwrap
import time

import pytest

from amlocal.core import Environment, Experiment, Run, ScriptRunConfig, Workspace
from amlocal.core.compute import AmlCompute, ComputeTarget

pytestmark = pytest.mark.docker


@pytest.fixture
def ws(project, base_image):
    return Workspace.from_config(backend="docker")


def script(project, name, body, environment=None):
    folder = project / "jobs"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(body))
    return ScriptRunConfig(source_directory=str(folder), script=name, environment=environment or Environment("stdlib"))


def target(ws, name, vm_size="STANDARD_D2_V2", max_nodes=1):
    config = AmlCompute.provisioning_configuration(vm_size=vm_size, max_nodes=max_nodes)
    return ComputeTarget.create(ws, name, config)


def wait_for(run, status, timeout=120):
    deadline = time.monotonic() + timeout
    while run.get_status() != status:
        assert time.monotonic() < deadline, f"{run.id} never reached {status}: {run.get_status()}"
        time.sleep(0.05)


def timeline(run):
    return dict(run.get_details()["statusTimeline"])


def test_container_is_labelled_with_the_run_and_removed_after(ws, project, docker_engine):
    run = Experiment(ws, "labels").submit(script(project, "nap.py", "import time; time.sleep(3)\n"))
    wait_for(run, "Running")
    labelled = docker_engine.containers.list(filters={"label": f"amlocal.run_id={run.id}"})
    assert len(labelled) == 1 and labelled[0].labels["amlocal.workspace"] == ws.name
    run.wait_for_completion()
    assert docker_engine.containers.list(all=True, filters={"label": f"amlocal.run_id={run.id}"}) == []


def test_max_nodes_bounds_concurrent_runs_and_the_rest_wait_queued(ws, project):
    compute = target(ws, "one-node", max_nodes=1)
    config = script(project, "nap.py", "import time; time.sleep(6)\n")
    config.compute_target = compute
    first = Experiment(ws, "queue").submit(config)
    wait_for(first, "Running")
    second = Experiment(ws, "queue").submit(config)
    wait_for(second, "Queued")
    assert first.get_status() in ("Running", "Finalizing")
    first.wait_for_completion()
    second.wait_for_completion()
    assert timeline(second)["Running"] >= timeline(first)["Finalizing"]


def test_vm_size_sets_limits_and_out_of_memory_fails_with_the_reason(ws, project, docker_engine):
    compute = target(ws, "tiny", vm_size="STANDARD_B1LS")
    config = script(project, "hog.py", """
        print("allocating", flush=True)
        block = b"x" * (1536 << 20)
        print("survived", len(block))
        """)
    config.compute_target = compute
    run = Experiment(ws, "oom").submit(config)
    wait_for(run, "Running")
    container = docker_engine.containers.list(all=True, filters={"label": f"amlocal.run_id={run.id}"})[0]
    assert container.attrs["HostConfig"]["Memory"] == 512 << 20
    assert container.attrs["HostConfig"]["NanoCpus"] == 1_000_000_000
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Failed"
    assert details["error"]["code"] == "OutOfMemory"
    assert "out of memory" in details["error"]["message"]
    assert "allocating" in details["error"]["log_tail"]


def test_environment_image_is_reused_on_a_cache_hit(ws, project):
    env = Environment("pinned")
    env.python.conda_dependencies.add_pip_package("joblib")
    config = script(project, "use_joblib.py", "import joblib; print('joblib', joblib.__version__)\n", env)
    Experiment(ws, "cache").submit(config).wait_for_completion()   # builds, or hits an earlier build
    run = Experiment(ws, "cache").submit(config)
    run.wait_for_completion()
    assert "azureml-logs/20_image_build_log.txt" not in run.get_file_names()
    steps = timeline(run)
    assert steps["Starting"] - steps["Preparing"] < 1.0


def test_unknown_pip_package_fails_the_run_with_the_build_log(ws, project):
    env = Environment("broken")
    env.python.conda_dependencies.add_pip_package("amlocal-no-such-package-xyz==9.9.9")
    run = Experiment(ws, "bad-env").submit(script(project, "never.py", "print('never')\n", env))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Failed"
    assert details["error"]["code"] == "EnvironmentBuildFailed"
    assert "amlocal-no-such-package-xyz" in details["error"]["log_tail"]
    assert "azureml-logs/20_image_build_log.txt" in run.get_file_names()


def test_conda_packages_without_conda_fail_naming_them(ws, project):
    env = Environment("conda")
    env.python.conda_dependencies.add_conda_package("libgfortran")
    env.python.conda_dependencies.add_pip_package("joblib")
    run = Experiment(ws, "conda").submit(script(project, "never.py", "print('never')\n", env))
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Failed"
    assert "libgfortran" in details["error"]["message"] and "conda" in details["error"]["message"]


def test_snapshot_is_taken_at_submit(ws, project):
    config = script(project, "show_data.py", """
        import time
        time.sleep(1)
        print(open("data.txt").read())
        """)
    (project / "jobs" / "data.txt").write_text("original")
    run = Experiment(ws, "snapshot").submit(config)
    (project / "jobs" / "data.txt").write_text("edited after submit")
    run.wait_for_completion()
    log = run.get_details_with_logs()["logFiles"]["azureml-logs/70_driver_log.txt"]
    assert "original" in log and "edited" not in log


def test_run_finishes_after_the_submitting_process_exits(ws, project):
    (project / "jobs").mkdir(exist_ok=True)
    (project / "jobs" / "slow.py").write_text("import time; time.sleep(2); print('finished alone')\n")
    submitter = textwrap.dedent("""
        from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace
        ws = Workspace.from_config(backend="docker")
        run = Experiment(ws, "detached").submit(
            ScriptRunConfig(source_directory="jobs", script="slow.py", environment=Environment("stdlib")))
        print(run.id)
        """)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", submitter], capture_output=True, text=True, check=True)
    assert time.monotonic() - started < 10, "submit must return at once"
    run_id = result.stdout.strip().splitlines()[-1]
    status = subprocess.run([sys.executable, "-c", f"from amlocal.core import Run, Workspace; "
                             f"print(Run.get(Workspace.from_config(), {run_id!r}).get_status())"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert status in ("NotStarted", "Starting", "Preparing", "Queued", "Running")
    run = Run.get(ws, run_id)
    run.wait_for_completion()
    assert "finished alone" in run.get_details_with_logs()["logFiles"]["azureml-logs/70_driver_log.txt"]


def test_a_killed_supervisor_s_run_is_adopted_and_finishes(ws, project, docker_engine):
    import os
    import signal

    from support import supervisor_pids, wait_until

    run = Experiment(ws, "orphan").submit(script(project, "nap.py", """
        import os, time
        time.sleep(3)
        os.makedirs("outputs", exist_ok=True)
        open("outputs/done.txt", "w").write("slept")
        print("woke up", flush=True)
        """))
    wait_for(run, "Running")
    for pid in supervisor_pids(run.id):
        os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not supervisor_pids(run.id) or None, 10, "the supervisor to die")

    details = run.wait_for_completion()

    assert details["status"] == "Completed"
    assert "outputs/done.txt" in run.get_file_names()
    assert "woke up" in run.get_details_with_logs()["logFiles"]["azureml-logs/70_driver_log.txt"]
    assert "adopts the run" in run.get_details_with_logs()["logFiles"]["azureml-logs/60_control_log.txt"]
    # one list call (api.containers): a container removed meanwhile cannot fail it, as containers.list's
    # inspect of each would
    wait_until(lambda: not docker_engine.api.containers(all=True, filters={"label": f"amlocal.run_id={run.id}"}),
               10, "the run's container to be removed")


def test_docker_chosen_explicitly_without_an_engine_fails_clearly(project, monkeypatch):
    from amlocal.exceptions import BackendUnavailableError

    monkeypatch.setenv("DOCKER_HOST", "unix:///tmp/amlocal-no-engine.sock")
    ws = Workspace.from_config(backend="docker")
    with pytest.raises(BackendUnavailableError) as raised:
        Experiment(ws, "x").submit(script(project, "x.py", "print(1)\n"))
    assert "AMLOCAL_BACKEND=process" in str(raised.value)
    assert ws.run_history.list_runs() == []


def test_engine_going_away_fails_the_run_with_the_reason(project, base_image, docker_engine, monkeypatch, tmp_path):
    from engine_proxy import EngineProxy

    proxy = EngineProxy(tmp_path / "engine.sock")
    monkeypatch.setenv("DOCKER_HOST", proxy.docker_host)
    ws = Workspace.from_config(backend="docker")
    run = Experiment(ws, "engine-gone").submit(script(project, "long.py", """
        import time
        print("working", flush=True)
        time.sleep(60)
        """))
    try:
        from support import wait_until

        wait_for(run, "Running")
        # the supervisor follows the job's log through the engine: cut it while it does
        wait_until(lambda: "working" in ws.run_history.read_log(run.id, "azureml-logs/70_driver_log.txt")[0],
                   60, "the job's first line in its driver log")
        proxy.cut()
        details = run.wait_for_completion(raise_on_error=False)
        assert details["status"] == "Failed"
        assert details["error"]["code"] == "BackendUnavailable"
        assert "engine" in details["error"]["message"]
    finally:
        import docker

        for container in docker_engine.api.containers(all=True, filters={"label": f"amlocal.run_id={run.id}"}):
            try:
                docker_engine.api.remove_container(container["Id"], force=True)
            except docker.errors.NotFound:  # the run's supervisor removed it first
                pass
            except docker.errors.APIError as err:  # or is removing it right now (409)
                if err.status_code != 409:
                    raise
