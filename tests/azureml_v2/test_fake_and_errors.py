"""FakeV2Adapter answers as the service does at the adapter seam (statuses, queueing, SDK error
types), and the SDK's errors reach the user as amlocal errors that say what to do next."""

import io
import time
from contextlib import redirect_stdout

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.ai.ml.exceptions import MlException

from amlocal.core import Environment, Experiment, Model, ScriptRunConfig
from amlocal.core.compute import AmlCompute, ComputeTarget
from amlocal.core.compute_target import ComputeTargetException
from amlocal.exceptions import EnvironmentNotFoundError, InvalidArgumentError, ModelNotFoundError, RunNotFoundError
from amlocal.rules.names import new_run_id
from amlocal_azureml_v2 import _code, errors, translate
from amlocal_azureml_v2.adapter import AzureMLV2Adapter
from amlocal_azureml_v2.fake import FakeV2Adapter
from amlocal.specs import EnvironmentSpec, RunSpec


def test_the_fake_and_the_real_adapter_implement_the_whole_seam():
    from amlocal_azureml_v2.sdk_adapter import SdkV2Adapter

    for adapter in (FakeV2Adapter, SdkV2Adapter):
        assert issubclass(adapter, AzureMLV2Adapter) and not adapter.__abstractmethods__, adapter


def submit(fake, tmp_path, body, name="job.py", compute="amlocal-cpu", environment=None):
    folder = tmp_path / f"src-{name}"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(body)
    staged, _ = _code.stage(folder, parent=tmp_path)
    spec = RunSpec(experiment="exp", source_directory=str(folder), script=name,
                   environment=environment or EnvironmentSpec(name="e"))
    return fake.submit(translate.to_command_job(spec, new_run_id("exp"), staged, compute))


def poll_until(fake, name, statuses, timeout=60):
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = fake.get_status(name)
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in statuses:
            return seen
        time.sleep(0.01)
    raise AssertionError(f"job stuck; seen {seen}")


def test_jobs_wait_queued_for_a_free_node(fake, tmp_path):
    fake.add_cluster("one-node", max_nodes=1)
    go = tmp_path / "go"
    first = submit(fake, tmp_path, f"import os, time\nwhile not os.path.exists({str(go)!r}):\n    time.sleep(0.02)\n",
                   compute="one-node")
    second = submit(fake, tmp_path, "print('second')\n", name="second.py", compute="one-node")
    assert poll_until(fake, first, {"Running"}) == ["NotStarted", "Starting", "Preparing", "Queued", "Running"]
    assert [fake.get_status(second) for _ in range(10)][-1] == "Queued"
    go.write_text("")
    seen = poll_until(fake, second, {"Completed"})  # the service finishes the first without being asked
    assert seen[0] == "Queued" and seen[-1] == "Completed"
    assert fake.get_status(first) == "Completed"


def test_a_user_managed_environment_without_mlflow_only_prints_metrics(fake, tmp_path):
    name = submit(fake, tmp_path, "from azureml.core.run import Run\nRun.get_context().log('a', 1)\n",
                  environment=EnvironmentSpec(name="bare", user_managed=True, base_image="me/img:1"))
    poll_until(fake, name, {"Completed", "Failed"})
    log = fake.read_log(name, "user_logs/std_log.txt").decode()
    assert "has no usable 'mlflow' package" in log and "Attempted to log scalar metric a" in log
    assert fake.metric_histories(name) == {}


def test_sdk_error_types_from_the_fake(fake):
    with pytest.raises(ResourceNotFoundError) as raised:
        fake.get_status("no-such-job")
    assert raised.value.status_code == 404 and raised.value.error.code == "UserError"
    with pytest.raises(ResourceNotFoundError):
        fake.get_compute("nope")
    with pytest.raises(MlException, match="AzureFile is not supported for uploads"):
        fake.upload_files("workspacefilestore", [])


def test_compute_errors_say_what_to_do(ws):
    with pytest.raises(ComputeTargetException, match="ComputeTargetNotFound.*ComputeTarget.create"):
        ComputeTarget(workspace=ws, name="missing")
    with pytest.raises(errors.VmSizeUnavailableError, match="not available for compute 'big'"):
        ComputeTarget.create(ws, "big", AmlCompute.provisioning_configuration(vm_size="STANDARD_NOPE", max_nodes=1))
    ws.backend.adapter.compute.core_quota = 8
    with pytest.raises(errors.ComputeQuotaExceededError, match="request more quota"):
        ComputeTarget.create(ws, "wide", AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=40))
    ws.backend.adapter.compute.core_quota = None
    ws.backend.adapter.fail_provisioning("flaky")
    target = ComputeTarget.create(ws, "flaky", AmlCompute.provisioning_configuration(max_nodes=1))
    with pytest.raises(errors.ComputeProvisioningError, match="(?s)Provisioning compute 'flaky' failed.*delete it"):
        with redirect_stdout(io.StringIO()):
            target.wait_for_completion(show_output=True)


def test_run_model_and_datastore_errors(ws, project):
    with pytest.raises(RunNotFoundError, match="no job 'ghost'"):
        ws.run_history.get_run("ghost")
    with pytest.raises(ModelNotFoundError, match="no model named 'ghost'"):
        Model(ws, "ghost")
    with pytest.raises(InvalidArgumentError, match="no datastore 'elsewhere'"):
        ws.stores.datastores.list("elsewhere")
    with pytest.raises(EnvironmentNotFoundError, match="(?s)no environment 'ghost'.*env.register"):
        Environment.get(ws, "ghost")
    config = ScriptRunConfig(source_directory="src", script="train_iris.py", environment=Environment("e"),
                             compute_target="amlocal-cpu")
    config.arguments = ["--data", ws.get_default_datastore().path("x").as_download(path_on_compute="data")]
    (project / "data" / "iris").rename(project / "data" / "x")
    ws.get_default_datastore().upload(src_dir="./data/x", target_path="x", show_progress=False)
    with pytest.raises(InvalidArgumentError, match="path_on_compute"):
        Experiment(ws, "e").submit(config)


def fake_http_error(status, code, message):
    from amlocal_azureml_v2._fake_errors import http_error

    return http_error(status, code, message)


@pytest.mark.parametrize("raised, context, expected, text", [
    (fake_http_error(403, "AuthorizationFailed", "no access"), {}, errors.AzureCredentialsError, "AzureML Data"),
    (fake_http_error(403, "AuthorizationPermissionMismatch", "denied"), {"datastore": "ds"},
     errors.AzureCredentialsError, "Storage Blob Data Contributor"),
    (fake_http_error(404, "ResourceNotFound", "gone"), {"workspace": "ws"}, errors.AzureWorkspaceNotFoundError,
     "Download config.json"),
    (fake_http_error(400, "QuotaExceeded", "quota limits"), {"compute": "c", "vm_size": "S"},
     errors.ComputeQuotaExceededError, "request more quota"),
    (fake_http_error(400, "BadRequest", "bad field"), {}, InvalidArgumentError, "Azure ML refused to act"),
    (fake_http_error(500, "InternalError", "boom"), {}, errors.AzureServiceError, "Azure ML failed to act"),
])
def test_service_errors_become_amlocal_errors(raised, context, expected, text):
    with pytest.raises(expected, match=text) as caught:
        with errors.sdk_errors("act", **context):
            raise raised
    assert caught.value.__cause__ is raised


def test_credential_and_programming_errors():
    from azure.identity import CredentialUnavailableError

    with pytest.raises(errors.AzureCredentialsError, match="Azure refused the credentials while trying to act"):
        with errors.sdk_errors("act"):
            raise CredentialUnavailableError("az not logged in")
    with pytest.raises(KeyError):
        with errors.sdk_errors("act"):
            raise KeyError("a bug stays a bug")
    assert isinstance(errors.to_amlocal(HttpResponseError(message="x"), "act"), errors.AzureServiceError)
