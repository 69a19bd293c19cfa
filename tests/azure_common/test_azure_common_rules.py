"""What both Azure backends share (``amlocal_azure``): the same order and words whichever SDK is
underneath, and the fake's node keeping a job's files and processes in bounds."""

import json
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from amlocal.core.compute_target import ComputeTargetException
from amlocal.exceptions import InvalidArgumentError, RunNotFoundError
from amlocal_azure import errors, fake_jobs
from amlocal_azure.credentials import CliLogin, CredentialChain
from amlocal_azure.registry import select_models
from amlocal_azure.run_history import matching_runs, whole_lines
from amlocal_azure.stores import AdapterChoice
from amlocal_azure.times import epoch, utc

SP = {"AZURE_TENANT_ID": "tenant-1", "AZURE_CLIENT_ID": "client-1", "AZURE_CLIENT_SECRET": "s3cret"}


def logged_in(tmp_path):
    (tmp_path / "azureProfile.json").write_text(json.dumps({"subscriptions": [{"id": "s"}]}), encoding="utf-8-sig")
    return {"AZURE_CONFIG_DIR": str(tmp_path)}


# -- times -----------------------------------------------------------------------------------------

def test_azure_times_read_and_written():
    assert epoch("2024-01-02T03:04:05.1234567Z") == pytest.approx(1704164645.123456)
    assert utc(1704164645.123456) == "2024-01-02T03:04:05.123Z"
    assert epoch(utc(1704164645.5)) == 1704164645.5
    assert epoch(None) is None and epoch("yesterday") is None and utc(None) is None


# -- credentials -------------------------------------------------------------------------------------

CHAIN = CredentialChain(
    backend="some-backend", service_principal_keywords=("tenant", "client", "secret"),
    cli=CliLogin(probe=lambda environ: environ.get("CLI"), found="the CLI is at {cli}", missing="there is no CLI",
                 absent="no CLI anywhere", used="the login in {profile} ({cli})", how_to_get="get the CLI"),
    given_help="a credential object")


def test_the_chain_takes_the_first_that_is_there(tmp_path):
    profile = logged_in(tmp_path)
    given = object()
    assert CHAIN.find({}, dict(SP, CLI="/bin/az", **profile), given).credential is given
    choice = CHAIN.find({}, dict(SP, CLI="/bin/az", **profile))
    assert (choice.kind, choice.parameters) == ("service_principal",
                                                {"tenant": "tenant-1", "client": "client-1", "secret": "s3cret"})
    assert "s3cret" not in choice.description
    assert CHAIN.find({}, dict(CLI="/bin/az", **profile)).description.endswith("(/bin/az)")
    assert CHAIN.find({"auth": "interactive", "tenant_id": "t"}, profile).parameters == {"tenant_id": "t"}
    with pytest.raises(errors.AzureCredentialsError, match="AZURE_CLIENT_SECRET missing"):
        CHAIN.find({}, {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", **profile})


def test_nothing_usable_says_what_was_looked_for_in_order(tmp_path):
    with pytest.raises(errors.AzureCredentialsError) as raised:
        CHAIN.find({}, logged_in(tmp_path))
    lines = str(raised.value).splitlines()
    assert lines[0] == "No Azure credentials for the 'some-backend' backend. amlocal looked for, in this order:"
    assert [line.split(":")[0] for line in lines[1:3]] == ["  1. a service principal", "  2. an Azure CLI login"]
    assert lines[3] == ("  3. interactive sign-in, used only when AMLOCAL_AZURE_AUTH=interactive "
                        "(AMLOCAL_AZURE_AUTH is not set).")
    assert "but there is no CLI" in lines[2]
    assert "  - or get the CLI;" in lines
    assert "  - or pass auth=<a credential object> to Workspace.from_config()." in lines
    assert lines[-1].endswith("amlocal never falls back to a local backend on its own.")


def test_both_backends_look_in_the_same_order_and_say_it_alike(tmp_path):
    pytest.importorskip("azureml.core")
    pytest.importorskip("azure.ai.ml")
    from amlocal_azureml import auth as v1
    from amlocal_azureml_v2 import auth as v2

    profile = logged_in(tmp_path)
    for environ in (dict(SP, **profile), profile, {"AMLOCAL_AZURE_AUTH": "interactive"}):
        assert v1.find_credentials({}, environ, cli_installed=True).kind == \
            v2.find_credentials({}, environ, az_program="/usr/bin/az").kind
    said = []
    for find in (lambda: v1.find_credentials({}, profile, cli_installed=False),
                 lambda: v2.find_credentials({}, profile, az_program="")):
        with pytest.raises(errors.AzureCredentialsError) as raised:
            find()
        said.append(str(raised.value).splitlines())
    differ = [i for i, (a, b) in enumerate(zip(*said)) if a != b]
    # what differs is each SDK's: the backend's name, where the CLI must be, what its interactive
    # sign-in is called, how to get the CLI, what auth= takes
    assert len(said[0]) == len(said[1]) and differ == [0, 2, 3, 6, 8]


# -- errors ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, code, action, expected", [
    ("Operation results in exceeding quota limits", "QuotaExceeded", "create compute",
     errors.ComputeQuotaExceededError),
    ("The specified VM size STANDARD_X is not supported in region eastus.", "BadArgument", "create compute",
     errors.VmSizeUnavailableError),
    # an allocation failure names the VM size too: it is a failed provisioning
    ("Allocation failed. We do not have sufficient capacity for the requested VM size in this region.", "",
     "provision compute", errors.ComputeProvisioningError),
    ("Compute object provisioning polling reached non-successful terminal state", None, "get compute",
     errors.ComputeProvisioningError),
    ("Something else", "InternalError", "get compute", ComputeTargetException),
])
def test_a_cluster_error_is_told_by_what_the_service_says(text, code, action, expected):
    err = errors.compute_error(text, code, action, "cpu", "STANDARD_X", "the listing call")
    assert type(err) is expected and text in str(err)
    if expected is errors.VmSizeUnavailableError:
        assert "the listing call lists them" in str(err)


def test_the_guard_maps_sdk_errors_and_lets_others_through():
    class SdkError(Exception):
        pass

    guard = errors.sdk_errors(lambda err, action, **context: (
        errors.run_not_found(context["run_id"], str(err)) if isinstance(err, SdkError) else None))
    with pytest.raises(RunNotFoundError, match="Azure ML has no run 'r1' in this workspace") as raised:
        with guard("get the run", run_id="r1"):
            raise SdkError("404")
    assert isinstance(raised.value.__cause__, SdkError)
    with pytest.raises(KeyError):  # not an Azure error: keeps its own type
        with guard("get the run", run_id="r1"):
            raise KeyError("x")
    mine = InvalidArgumentError("already amlocal's")
    with pytest.raises(InvalidArgumentError) as raised:
        with guard("get the run", run_id="r1"):
            raise mine
    assert raised.value is mine


@pytest.mark.parametrize("backend", ["azureml", "azureml-v2"])
def test_a_failed_allocation_is_a_provisioning_error_on_both_backends(backend, tmp_path, monkeypatch):
    from amlocal.core import Workspace
    from amlocal.core.compute import AmlCompute, ComputeTarget

    if backend == "azureml":
        pytest.importorskip("azureml.core")
        from amlocal_azureml.fake import FakeAzureAdapter as Fake
    else:
        pytest.importorskip("azure.ai.ml")
        from amlocal_azureml_v2.fake import FakeV2Adapter as Fake
    monkeypatch.setenv("AMLOCAL_HOME", str(tmp_path / "home"))
    (tmp_path / "config.json").write_text(json.dumps({"subscription_id": "s", "resource_group": "r",
                                                      "workspace_name": "w"}))
    monkeypatch.chdir(tmp_path)
    fake = Fake(root=tmp_path / "fake")
    fake.fail_provisioning("gpu")  # the service's words: "... capacity for the requested VM size ..."
    ws = Workspace.from_config(backend=backend, backend_options={"adapter": fake})
    target = ComputeTarget.create(ws, "gpu", AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2",
                                                                                   max_nodes=1))
    with pytest.raises(errors.ComputeProvisioningError, match="Provisioning compute 'gpu' failed"):
        target.wait_for_completion()
    fake.close()


# -- the fake node -------------------------------------------------------------------------------------

def test_outputs_are_collected_without_links(tmp_path):
    job = fake_jobs.JobProcess(tmp_path / "job")
    secret = tmp_path / "secret.txt"
    secret.write_text("not the job's")
    outputs = job.work_dir / "outputs"
    (outputs / "nested").mkdir(parents=True)
    (outputs / "model.pkl").write_bytes(b"model")
    (outputs / "stolen.txt").symlink_to(secret)
    (outputs / "nested" / "all").symlink_to(tmp_path, target_is_directory=True)
    (job.work_dir / "logs").symlink_to(tmp_path, target_is_directory=True)
    job.collect_outputs()
    assert job.files() == ["outputs/model.pkl"]
    assert not job.work_dir.exists() and secret.read_text() == "not the job's"


def test_a_job_that_ignores_sigterm_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr(fake_jobs, "STOP_GRACE_SECONDS", 0.5)
    job = fake_jobs.JobProcess(tmp_path / "job")
    job.snapshot_dir.mkdir(parents=True)
    job.open_work_dir()
    ready = tmp_path / "ready"
    code = textwrap.dedent(f"""
        import pathlib, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        pathlib.Path({str(ready)!r}).write_text("")
        time.sleep(300)
    """)
    job.launch([sys.executable, "-c", code], {}, "std_log.txt")
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    job.stop()
    assert job.exit_code == -signal.SIGKILL


def test_the_last_error_line_of_a_log(tmp_path):
    job = fake_jobs.JobProcess(tmp_path / "job")
    (job.files_dir / "log.txt").write_text("Traceback (most recent call last):\n  x\nValueError: bad input\ndone\n")
    assert job.last_error_line("log.txt") == "ValueError: bad input"
    assert job.last_error_line("missing.txt") is None


def test_uploads_a_job_names_stay_inside_the_run(tmp_path):
    pytest.importorskip("azureml.core")
    from amlocal_azureml._fake_job import FakeJob

    job = FakeJob(tmp_path / "run", "r1", "exp")
    (job.control_dir / "uploads").mkdir(parents=True)
    (job.control_dir / "uploads" / "ok.txt").write_text("ok")
    (tmp_path / "outside.txt").write_text("host file")
    events = [{"kind": "upload", "path": "uploads/ok.txt", "name": "outputs/ok.txt"},
              {"kind": "upload", "path": "../../outside.txt", "name": "outputs/leak.txt"},
              {"kind": "upload", "path": "uploads/ok.txt", "name": "../../escaped.txt"},
              {"kind": "upload", "path": "/etc/hostname", "name": "outputs/abs.txt"},
              {"kind": "upload", "path": "uploads/ok.txt"}]
    (job.control_dir / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    assert len(job.new_events()) == len(events)
    assert job.files() == ["outputs/ok.txt"]
    assert not (tmp_path / "escaped.txt").exists()


# -- stores, registry and history shapes -----------------------------------------------------------------

class Adapter:
    """An adapter class as AdapterChoice finds one by name: ``for_workspace`` signs in."""
    closed = False

    @classmethod
    def for_workspace(cls, workspace, auth):
        return ("sdk", workspace, auth)

    def close(self):
        self.closed = True


def test_the_adapter_given_else_the_mocked_else_the_sdks():
    choice = AdapterChoice(f"{__name__}:Adapter")
    given, outer = Adapter(), Adapter()
    assert choice("ws", auth="a") == ("sdk", "ws", "a")
    with choice.mock(outer, Adapter):
        with choice.mock(None, Adapter) as inner:
            assert choice("ws") is inner and choice("ws", given) is given
        assert inner.closed and choice("ws") is outer
    assert not outer.closed and choice("ws") == ("sdk", "ws", None)


def test_models_are_selected_as_model_list_does():
    models = [{"name": "a", "version": v, "run_id": f"r{v}", "tags": {"stage": "prod" if v == 2 else "dev"},
               "properties": {}} for v in (1, 2, 3)] + [{"name": "b", "version": 1, "run_id": None, "tags": {},
                                                         "properties": {"k": "v"}}]
    pick = lambda **kw: [(m["name"], m["version"]) for m in select_models(models, field=dict.get, **kw)]  # noqa: E731
    assert pick() == [("a", 3), ("a", 2), ("a", 1), ("b", 1)]
    assert pick(latest=True) == [("a", 3), ("b", 1)]
    assert pick(tags=[["stage", "prod"]]) == [("a", 2)] and pick(tags=["stage"]) == [("a", 3), ("a", 2), ("a", 1)]
    assert pick(properties=[["k", "v"]]) == [("b", 1)] and pick(run_id="r1") == [("a", 1)]


def test_runs_filtered_and_logs_read_in_whole_lines():
    runs = [{"run_id": "1", "tags": {"a": "1"}, "properties": {}, "parent_run_id": "p"},
            {"run_id": "2", "tags": None, "properties": {"b": "2"}}]
    assert [r["run_id"] for r in matching_runs(runs, tags={"a": "1"})] == ["1"]
    assert [r["run_id"] for r in matching_runs(runs, properties="b")] == ["2"]
    assert [r["run_id"] for r in matching_runs(runs, parent_run_id="p")] == ["1"]
    assert whole_lines(b"one\ntw", 10) == ("one\n", 14)
    assert whole_lines(b"one\ntw", 10, final=True) == ("one\ntw", 16)
    assert whole_lines(b"", 3) == ("", 3)


def test_stopping_a_job_ends_its_whole_session(tmp_path):
    """The fake node's jobs run in their own session: stopping one leaves no process of it."""
    job = fake_jobs.JobProcess(tmp_path / "job")
    job.snapshot_dir.mkdir(parents=True)
    job.open_work_dir()
    child = tmp_path / "child.pid"
    job.launch(["bash", "-c", f"sleep 300 & echo $! > {child}; sleep 300"], {"PATH": "/usr/bin:/bin"}, "std_log.txt")
    deadline = time.monotonic() + 30
    while not child.exists() or not child.read_text().strip():
        assert time.monotonic() < deadline, "the job never started its child"
        time.sleep(0.05)
    job.stop()
    deadline = time.monotonic() + 30
    while subprocess.run(["pgrep", "-s", str(job.process.pid)], capture_output=True).returncode == 0:
        assert time.monotonic() < deadline, "a process of the stopped job's session is still there"
        time.sleep(0.05)
