"""FakeAzureAdapter behaves as Azure ML does at the adapter seam: statuses step through Azure's
order, the script really runs, and errors are the real SDK's types."""

import time
from pathlib import Path

import pytest
from azureml._restclient.exceptions import ServiceException
from azureml.core import Environment, ScriptRunConfig
from azureml.core.compute import AmlCompute
from azureml.exceptions import (ComputeTargetException, ModelPathNotFoundException, UserErrorException,
                                WebserviceException)

from amlocal.rules.statuses import AMLCOMPUTE_ORDER, COMPLETED

STATUS_ORDER = (*AMLCOMPUTE_ORDER, COMPLETED)
from amlocal_azureml.adapter import AzureAdapter
from amlocal_azureml.fake import FakeAzureAdapter

WAIT_FOR_GO = """
import os, time
from azureml.core.run import Run
run = Run.get_context()
run.log("started", 1)
while not os.path.exists({go!r}):
    time.sleep(0.02)
os.makedirs("outputs", exist_ok=True)
open("outputs/result.txt", "w").write(os.environ.get("GREETING", "none"))
print("finished", flush=True)
"""


def src(tmp_path, body, name="job.py", target="amlocal-cpu", arguments=(), env_vars=None):
    folder = tmp_path / f"src-{name}"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(body)
    config = ScriptRunConfig(source_directory=str(folder), script=name, arguments=list(arguments),
                             compute_target=target, environment=Environment("e"))
    config.run_config.environment_variables = dict(env_vars or {})
    return config


def poll_until(fake, run_id, statuses, limit=2000):
    seen = []
    for _ in range(limit):
        status = fake.get_status(run_id)
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in statuses:
            return seen
        time.sleep(0.01)
    raise AssertionError(f"run stuck; seen {seen}")


def test_the_fake_implements_the_whole_adapter():
    assert issubclass(FakeAzureAdapter, AzureAdapter)
    assert not FakeAzureAdapter.__abstractmethods__


def test_azures_statuses_one_per_poll_and_running_lasts_as_long_as_the_script(fake, tmp_path):
    go = tmp_path / "go"
    run_id = fake.submit("exp", src(tmp_path, WAIT_FOR_GO.format(go=str(go)), env_vars={"GREETING": "hi"}))
    assert [fake.get_status(run_id) for _ in range(3)] == ["NotStarted", "Starting", "Preparing"]
    assert poll_until(fake, run_id, {"Running"})[-2:] == ["Queued", "Running"]  # Preparing lasts while it builds
    for _ in range(20):
        assert fake.get_status(run_id) == "Running"
        time.sleep(0.01)
    deadline = time.monotonic() + 60
    while fake.get_metrics(run_id).get("started") != 1:  # metrics arrive while the run goes
        assert time.monotonic() < deadline
        time.sleep(0.02)
    go.write_text("")
    assert poll_until(fake, run_id, {"Finalizing"})[-1] == "Finalizing"
    assert fake.get_status(run_id) == "Completed"
    assert [s for s, _ in fake.status_timeline(run_id)] == list(STATUS_ORDER)
    assert "outputs/result.txt" in fake.list_files(run_id)
    target = tmp_path / "result.txt"
    fake.download_file(run_id, "outputs/result.txt", str(target))
    assert target.read_text() == "hi"
    assert "finished" in fake.read_log(run_id, "azureml-logs/70_driver_log.txt")
    record = fake.get_run(run_id)
    assert record["start_time"] <= record["end_time"] and record["compute_target"] == "amlocal-cpu"


def test_runs_wait_queued_for_a_free_node(fake, tmp_path):
    fake.add_cluster("one-node", max_nodes=1)
    go = tmp_path / "go"
    first = fake.submit("exp", src(tmp_path, WAIT_FOR_GO.format(go=str(go)), target="one-node"))
    second = fake.submit("exp", src(tmp_path, "print('second')\n", name="second.py", target="one-node"))
    poll_until(fake, first, {"Running"})
    poll_until(fake, second, {"Queued"})
    assert {fake.get_status(second) for _ in range(10)} == {"Queued"}  # no node: it stays there
    go.write_text("")
    seen = poll_until(fake, second, {"Completed"})  # the service finishes the first without being asked
    assert seen[0] == "Queued" and seen[-1] == "Completed"
    assert fake.get_status(first) == "Completed"


def test_cancel_kills_the_script(fake, tmp_path):
    run_id = fake.submit("exp", src(tmp_path, "import time\ntime.sleep(300)\n"))
    poll_until(fake, run_id, {"Running"})
    process = fake.runs[run_id].job.process
    fake.cancel(run_id)
    assert fake.get_run(run_id)["status"] == "CancelRequested"
    assert process.poll() is not None
    assert fake.get_status(run_id) == "Canceled"
    fake.cancel(run_id)  # a finished run: no-op
    assert fake.get_status(run_id) == "Canceled"


def test_max_run_duration_cancels_the_run(fake, tmp_path):
    config = src(tmp_path, "import time\ntime.sleep(300)\n")
    config.run_config.max_run_duration_seconds = 1
    run_id = fake.submit("exp", config)
    seen = poll_until(fake, run_id, {"Canceled", "Completed", "Failed"})
    assert seen[-1] == "Canceled"
    assert "max_run_duration_seconds (1)" in fake.get_details(run_id)["error"]["error"]["message"]


def test_data_references_resolve_like_azure(fake, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "rows.csv").write_text("a\n1\n2\n")
    fake.upload_files("workspaceblobstore", [(str(data / "rows.csv"), "tables/rows.csv")], show_progress=False)
    store = fake.get_datastore("workspaceblobstore")
    mount = store.path("tables").as_mount()
    download = store.path("tables/rows.csv").as_download(path_on_compute="local/rows.csv")
    body = ("import sys, os\nprint(sys.argv[1:])\n"
            "assert open(os.path.join(sys.argv[1], 'rows.csv')).read().count('\\n') == 3\n"
            "assert sys.argv[2].endswith('local/rows.csv') and os.path.isfile('local/rows.csv')\n")
    config = src(tmp_path, body, arguments=[str(mount), str(download)])
    config.run_config.data_references = {mount.data_reference_name: mount.to_config(),
                                         download.data_reference_name: download.to_config()}
    run_id = fake.submit("exp", config)
    assert poll_until(fake, run_id, {"Completed", "Failed"})[-1] == "Completed", fake.read_log(
        run_id, "azureml-logs/70_driver_log.txt")
    assert fake.datastore_path_exists("workspaceblobstore", "tables")
    assert not fake.datastore_path_exists("workspaceblobstore", "tables/none.csv")
    assert fake.list_datastore_files("workspaceblobstore") == ["tables/rows.csv"]


def test_compute_errors_are_the_sdks(fake):
    with pytest.raises(ComputeTargetException, match="ComputeTargetNotFound"):
        fake.get_compute("missing")
    with pytest.raises(ComputeTargetException, match="Received bad response from Resource Provider"):
        fake.create_compute("odd", AmlCompute.provisioning_configuration(vm_size="STANDARD_XYZ", max_nodes=1))
    with pytest.raises(UserErrorException, match="reserved name"):
        fake.create_compute("local", AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=1))
    record = fake.create_compute("c1", AmlCompute.provisioning_configuration(vm_size="standard_d2_v2", max_nodes=2))
    assert record == {"name": "c1", "type": "AmlCompute", "vm_size": "STANDARD_D2_V2", "vm_priority": "dedicated",
                      "min_nodes": 0, "max_nodes": 2, "provisioning_state": "Creating"}
    assert fake.get_compute("c1")["provisioning_state"] == "Succeeded"
    with pytest.raises(ComputeTargetException, match="Updating the VM size"):
        fake.create_compute("c1", AmlCompute.provisioning_configuration(vm_size="STANDARD_D4_V2", max_nodes=2))


def test_model_versions_and_errors_are_the_sdks(fake, tmp_path):
    run_id = fake.submit("exp", src(tmp_path, "import os\nos.makedirs('outputs')\nopen('outputs/m.bin','w').write('w')\n"))
    poll_until(fake, run_id, {"Completed"})
    versions = [fake.register_model_from_run(run_id, "m", "outputs/m.bin")["version"] for _ in range(3)]
    assert versions == [1, 2, 3]
    assert fake.get_model("m")["version"] == 3 and fake.get_model("m", 2)["run_id"] == run_id
    assert [m["version"] for m in fake.list_models(name="m")] == [3, 2, 1]
    assert [m["version"] for m in fake.list_models(latest=True)] == [3]
    with pytest.raises(ModelPathNotFoundException, match="Could not locate the provided model_path outputs/x"):
        fake.register_model_from_run(run_id, "m", "outputs/x")
    with pytest.raises(WebserviceException, match="ModelNotFound: Model with name m, version 7 not found"):
        fake.get_model("m", 7)
    with pytest.raises(WebserviceException, match="provided model name"):
        fake.register_model("-bad", str(tmp_path))
    with pytest.raises(WebserviceException, match="cannot be found"):
        fake.register_model("ok", str(tmp_path / "absent"))
    path = fake.download_model("m", 1, str(tmp_path / "dl"))
    assert Path(path).read_text() == "w"
    with pytest.raises(WebserviceException, match="File already exists"):
        fake.download_model("m", 1, str(tmp_path / "dl"))


def test_unknown_runs_and_datastores(fake):
    with pytest.raises(ServiceException) as raised:
        fake.get_status("nope")
    assert raised.value.status_code == 404
    with pytest.raises(UserErrorException, match="DatastoreNotFound"):
        fake.get_datastore("elsewhere")


def test_interactive_runs(fake):
    run_id = fake.start_logging("notebook")
    assert fake.get_status(run_id) == "Running"
    fake.log_metric(run_id, "acc", 0.9)
    fake.end_run(run_id, "Failed", {"message": "stopped by hand", "code": "Manual"})
    assert fake.get_status(run_id) == "Failed"
    assert fake.get_details(run_id)["error"]["error"] == {"code": "Manual", "message": "stopped by hand"}
    assert fake.get_metrics(run_id) == {"acc": 0.9}
    assert fake.portal_url(run_id).startswith(f"https://ml.azure.com/runs/{run_id}?wsid=/subscriptions/")
