"""The errors a user of the azureml backend meets: amlocal types, clear messages, never an
azureml exception (the SDK's are kept as the cause)."""

import io
import os
import subprocess
import sys
import textwrap
import time
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from azureml._restclient.exceptions import ServiceException
from azureml.exceptions import (AuthenticationException, AzureMLException, ComputeTargetException as SdkComputeError,
                                ModelPathNotFoundException as SdkModelPathNotFoundException, ProjectSystemException,
                                SnapshotException, UserErrorException, WebserviceException)

from amlocal.core import Environment, Experiment, Model, ScriptRunConfig, Workspace
from amlocal.core.compute import AmlCompute, ComputeTarget
from amlocal.core.compute_target import ComputeTargetException
from amlocal.exceptions import (ActivityFailedException, BackendUnavailableError, ConfigError, InvalidArgumentError,
                                ModelNotFoundError, ModelPathNotFoundException, RunNotFoundError)
from amlocal_azureml.errors import (AzureCredentialsError, AzureServiceError, AzureWorkspaceNotFoundError,
                                    ComputeProvisioningError, ComputeQuotaExceededError, VmSizeUnavailableError,
                                    sdk_errors, to_amlocal)
from amlocal_azureml.fake import FakeAzureAdapter

REPO = Path(__file__).resolve().parents[2]


def script(project, name, body):
    folder = project / "scripts"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(body))
    return ScriptRunConfig(source_directory=str(folder), script=name, environment=Environment("stdlib"))


def not_azure(err):
    assert not isinstance(err, AzureMLException), f"an azureml exception leaked: {type(err)}"
    return err


# -- credentials ---------------------------------------------------------------------------------

NO_CREDENTIALS = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {backends!r})
    started = time.monotonic()
    from amlocal.core import Workspace
    from amlocal.exceptions import BackendUnavailableError
    ws = Workspace.from_config(backend="azureml")
    try:
        ws.backend
    except BackendUnavailableError as err:
        print(type(err).__name__)
        print(f"{{time.monotonic() - started:.2f}}")
        print(err)
    else:
        print("NO ERROR")
""")


def test_no_credentials_fails_in_seconds_saying_what_was_looked_for(project, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AMLOCAL_"))}
    env.update(HOME=str(tmp_path / "home"), AZURE_CONFIG_DIR=str(tmp_path / "no-cli"),
               AMLOCAL_HOME=str(tmp_path / "amlocal-home"))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", NO_CREDENTIALS.format(backends=str(REPO / "backends"))],
                          cwd=str(project), env=env, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    name, seconds, message = proc.stdout.split("\n", 2)
    assert name == "AzureCredentialsError"
    assert float(seconds) < 5 and elapsed < 15
    for looked_for in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "az login",
                       "AMLOCAL_AZURE_AUTH=interactive", "azure-cli"):
        assert looked_for in message
    assert "never falls back to a local backend" in message
    assert not (tmp_path / "amlocal-home").exists()  # nothing ran locally instead


def test_no_credentials_error_on_first_use_in_process(project):
    ws = Workspace.from_config(backend="azureml")
    with pytest.raises(AzureCredentialsError) as raised:
        Experiment(ws, "never-runs").submit(script(project, "x.py", "print(1)"))
    assert isinstance(raised.value, BackendUnavailableError)
    assert "No Azure credentials" in str(raised.value)


# -- workspace -----------------------------------------------------------------------------------

def test_workspace_not_found_is_a_config_error():
    err = to_amlocal(ProjectSystemException("Workspace not found."), "open workspace ws", workspace="ws")
    assert isinstance(err, AzureWorkspaceNotFoundError) and isinstance(err, ConfigError)
    assert "subscription_id, resource_group and workspace_name" in str(err)


def test_rejected_credentials_are_a_credentials_error():
    err = to_amlocal(AuthenticationException("AADSTS7000215: Invalid client secret provided."), "open workspace ws")
    assert isinstance(err, AzureCredentialsError)
    assert "Invalid client secret" in str(err) and "access to the workspace" in str(err)


# -- compute -------------------------------------------------------------------------------------

def test_missing_cluster_raises_the_exception_user_code_catches(ws):
    with pytest.raises(ComputeTargetException) as raised:
        ComputeTarget(ws, "nope")
    not_azure(raised.value)
    assert "ComputeTargetNotFound" in str(raised.value) and "ComputeTarget.create" in str(raised.value)
    assert isinstance(raised.value.__cause__, SdkComputeError)


def test_unknown_vm_size(ws, fake):
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_NOPE_V9", max_nodes=2)
    with pytest.raises(VmSizeUnavailableError) as raised:
        ComputeTarget.create(ws, "odd", config)
    err = not_azure(raised.value)
    assert isinstance(err, ComputeTargetException)
    assert "STANDARD_NOPE_V9" in str(err) and "not supported in region eastus" in str(err)
    assert "supported_vmsizes" in str(err)
    assert "odd" not in fake.clusters


def test_quota_exceeded(tmp_path, project):
    fake = FakeAzureAdapter(root=tmp_path / "quota", core_quota=8)
    ws = Workspace.from_config(backend="azureml", backend_options={"adapter": fake})
    ComputeTarget.create(ws, "small", AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=2))
    with pytest.raises(ComputeQuotaExceededError) as raised:
        ComputeTarget.create(ws, "big", AmlCompute.provisioning_configuration(vm_size="STANDARD_D4_V2", max_nodes=4))
    message = str(not_azure(raised.value))
    assert "quota" in message and "Maximum allowed: 8, Current in use: 4, Additional requested: 32" in message
    assert "smaller vm_size or fewer max_nodes" in message


def test_cluster_provisioning_failed(ws, fake):
    fake.fail_provisioning("gpu-cluster", "Allocation failed: no capacity for STANDARD_NC6 in eastus.")
    target = ComputeTarget.create(ws, "gpu-cluster",
                                  AmlCompute.provisioning_configuration(vm_size="STANDARD_NC6", max_nodes=1))
    assert target.provisioning_state == "Creating"
    with pytest.raises(ComputeProvisioningError) as raised, redirect_stdout(io.StringIO()):
        target.wait_for_completion(show_output=True)
    message = str(not_azure(raised.value))
    assert "gpu-cluster" in message and "no capacity for STANDARD_NC6" in message
    assert ComputeTarget(ws, "gpu-cluster").provisioning_state == "Failed"


# -- runs ----------------------------------------------------------------------------------------

def test_run_failed_on_azure_carries_the_log_tail(ws, project):
    config = script(project, "boom.py", """
        print("epoch 1 done", flush=True)
        raise ValueError("bad penalty")
        """)
    run = Experiment(ws, "failing").submit(config)
    out = io.StringIO()
    with pytest.raises(ActivityFailedException) as raised, redirect_stdout(out):
        run.wait_for_completion(show_output=True)
    err = not_azure(raised.value)
    assert err.status == "Failed"
    assert "User program failed with ValueError: bad penalty" in str(err)
    assert "--- last lines of the log ---" in str(err) and "epoch 1 done" in str(err)
    error = run.get_details()["error"]
    assert set(error) == {"error", "message", "code", "log_tail"} and error["code"] == "UserError"
    assert error["error"] == {"code": "UserError", "message": error["message"]}
    assert "Traceback" in error["log_tail"]
    # as azureml: the error is raised, not printed as well
    assert "Execution Summary" in out.getvalue() and "User program failed" not in out.getvalue()


def test_model_path_not_in_run_outputs(ws, project):
    config = script(project, "writer.py", """
        import os
        os.makedirs("outputs", exist_ok=True)
        open("outputs/model.bin", "w").write("weights")
        """)
    run = Experiment(ws, "paths").submit(config)
    run.wait_for_completion()
    with pytest.raises(ModelPathNotFoundException) as raised:
        run.register_model(model_name="m", model_path="outputs/missing.pkl")
    err = not_azure(raised.value)
    assert "outputs/missing.pkl" in str(err) and "outputs/model.bin" in str(err)
    assert "Write the model under ./outputs" in str(err)
    assert isinstance(err.__cause__.__cause__, SdkModelPathNotFoundException)


def test_model_not_found(ws, project):
    with pytest.raises(ModelNotFoundError, match="no model named 'ghost'"):
        Model(ws, "ghost")
    Model.register(ws, model_path=str(project / "config.json"), model_name="cfg")
    with pytest.raises(ModelNotFoundError, match="has no version 3; its versions are 1"):
        Model(ws, "cfg", version=3)


def test_submit_needs_a_compute_target_when_there_is_no_default(fake, project):
    ws = Workspace.from_config(backend="azureml", backend_options={"adapter": fake})
    with pytest.raises(InvalidArgumentError, match="needs a compute target"):
        Experiment(ws, "x").submit(script(project, "x.py", "print(1)"))
    assert fake.submissions == []


def test_data_reference_to_a_missing_path(ws, project):
    config = script(project, "x.py", "print(1)")
    config.arguments = ["--data", ws.get_default_datastore().path("never/uploaded").as_mount()]
    with pytest.raises(InvalidArgumentError, match="never/uploaded does not exist"):
        Experiment(ws, "x").submit(config)


def test_a_source_directory_too_large_to_snapshot(ws, project):
    folder = project / "huge"
    folder.mkdir()
    for index in range(2001):
        (folder / f"f{index}.txt").write_text("x")
    (folder / "train.py").write_text("print(1)")
    config = ScriptRunConfig(source_directory=str(folder), script="train.py")
    with pytest.raises(InvalidArgumentError, match="exceeds the file limit of 2000"):
        Experiment(ws, "x").submit(config)


def test_unknown_run(ws):
    from amlocal.core import Run

    with pytest.raises(RunNotFoundError, match="no run 'nope_1_abc'"):
        Run.get(ws, "nope_1_abc")


# -- the mapping itself --------------------------------------------------------------------------

@pytest.mark.parametrize("raised, expected", [
    (WebserviceException("ModelNotFound: Model with name x not found in provided workspace"), ModelNotFoundError),
    (WebserviceException("File already exists. To overwrite, set exist_ok to True. /tmp/x"), InvalidArgumentError),
    (UserErrorException("Please specify a different target name. local is a reserved name."), InvalidArgumentError),
    (SnapshotException("Your total snapshot size exceeds the limit"), InvalidArgumentError),
    (AzureMLException("Something else went wrong"), AzureServiceError),
])
def test_sdk_errors_map_to_amlocal_types(raised, expected):
    with pytest.raises(expected) as caught:
        with sdk_errors("do it"):
            raise raised
    assert caught.value.__cause__ is raised
    not_azure(caught.value)


def test_a_404_service_exception_of_a_run_is_run_not_found(tmp_path):
    fake = FakeAzureAdapter(root=tmp_path / "fake")
    try:
        with pytest.raises(ServiceException):
            fake.get_run("missing")
        with pytest.raises(RunNotFoundError):
            with sdk_errors("get the run", run_id="missing"):
                fake.get_run("missing")
    finally:
        fake.close()


def test_programming_errors_keep_their_type():
    with pytest.raises(KeyError):
        with sdk_errors("do it"):
            raise KeyError("bug")
