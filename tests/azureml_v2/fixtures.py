"""Workspaces on the ``azureml-v2`` backend for tests: a FakeV2Adapter by default, a real Azure ML
workspace when AMLOCAL_AZURE_LIVE=1 and its config.json and credentials are at hand.

Live mode needs AMLOCAL_AZURE_LIVE=1; the workspace's config.json (AMLOCAL_AZURE_CONFIG, else the
one found from the current directory); credentials (``amlocal_azureml_v2.auth``: a service
principal in AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET, an `az login` with `az` on
PATH, or AMLOCAL_AZURE_AUTH=interactive); a cluster: config.json "default_compute_target" or
AMLOCAL_AZURE_COMPUTE (default "amlocal-cpu", created as STANDARD_DS3_V2, 0 to 2 nodes, when
missing). Live runs cost money and take minutes each.

``make_azureml_v2_workspace(tmp_path, config_dir)`` is what the backend contract suite calls.
"""

import atexit
import json
import os
import sys
from pathlib import Path

BACKENDS_DIR = Path(__file__).resolve().parents[2] / "backends"
try:
    import amlocal_azureml_v2  # noqa: F401
except ModuleNotFoundError as err:  # an editable install made before the package existed
    if err.name != "amlocal_azureml_v2":
        raise
    sys.path.insert(0, str(BACKENDS_DIR))

from amlocal import _config  # noqa: E402
from amlocal.core import Workspace  # noqa: E402

LIVE_VARIABLE = "AMLOCAL_AZURE_LIVE"
LIVE_CONFIG_VARIABLE = "AMLOCAL_AZURE_CONFIG"
LIVE_COMPUTE_VARIABLE = "AMLOCAL_AZURE_COMPUTE"
FAKE_IDENTITY = {"subscription_id": "00000000-0000-0000-0000-000000000000", "resource_group": "amlocal-fake-rg",
                 "workspace_name": "amlocal-fake-ws"}
DEFAULT_CLUSTER = "amlocal-cpu"

_fakes = {}


def live_status(environ=None):
    """(True, config dict) when live tests can run, else (False, why they are skipped)."""
    environ = os.environ if environ is None else environ
    if environ.get(LIVE_VARIABLE) != "1":
        return False, (f"live Azure ML (SDK v2) tests are off: set {LIVE_VARIABLE}=1, with the workspace's "
                       f"config.json ({LIVE_CONFIG_VARIABLE}=<path> or found from the current directory) and "
                       "credentials, to run them against a real workspace")
    from amlocal.exceptions import ConfigError
    from amlocal_azureml_v2.auth import find_credentials
    from amlocal_azureml_v2.errors import AzureCredentialsError

    try:
        path = environ.get(LIVE_CONFIG_VARIABLE) or _config.find_config()
        config = _config.read_config(path)
    except ConfigError as err:
        return False, f"{LIVE_VARIABLE}=1 but no usable config.json: {err}"
    try:
        find_credentials(config, environ)
    except AzureCredentialsError as err:
        return False, f"{LIVE_VARIABLE}=1 but {err}"
    return True, config


def make_live_workspace(config_dir):
    """An amlocal Workspace with backend="azureml-v2" on the real workspace (live mode only)."""
    live, config = live_status()
    assert live, config
    data = dict(config, backend="azureml-v2")
    data.setdefault("default_compute_target", os.environ.get(LIVE_COMPUTE_VARIABLE) or DEFAULT_CLUSTER)
    path = Path(config_dir) / "config.json"
    path.write_text(json.dumps(data, indent=2))
    return Workspace.from_config(path=str(path), backend="azureml-v2")


def shared_fake(tmp_path, identity=None):
    """One FakeV2Adapter per ``tmp_path``: two workspaces made for the same test see the same
    Azure, as two Workspace objects of one real workspace do."""
    from amlocal_azureml_v2.fake import FakeV2Adapter

    key = str(Path(tmp_path).resolve())
    if key not in _fakes:
        identity = identity or FAKE_IDENTITY
        fake = FakeV2Adapter(root=Path(tmp_path) / "fake-azure-v2", subscription_id=identity["subscription_id"],
                             resource_group=identity["resource_group"], workspace_name=identity["workspace_name"])
        fake.add_cluster(DEFAULT_CLUSTER, vm_size="STANDARD_D2_V2", max_nodes=4)
        _fakes[key] = fake
    return _fakes[key]


@atexit.register
def _close_fakes():
    for fake in _fakes.values():
        fake.close()


def make_azureml_v2_workspace(tmp_path, config_dir):
    """Write ``config_dir``/config.json and return an amlocal Workspace with backend="azureml-v2":
    on a FakeV2Adapter (keeping the workspace identity of a config.json already there), or on the
    real workspace in live mode."""
    config_dir = Path(config_dir)
    config_dir.mkdir(parents=True, exist_ok=True)
    if live_status()[0]:
        workspace = make_live_workspace(config_dir)
        _ensure_live_cluster(workspace, workspace.backend.default_compute_target)
        return workspace
    config_path = config_dir / "config.json"
    existing = json.loads(config_path.read_text()) if config_path.is_file() else {}
    identity = {key: existing.get(key) or value for key, value in FAKE_IDENTITY.items()}
    data = dict(existing, **identity, backend="azureml-v2", default_compute_target=DEFAULT_CLUSTER)
    config_path.write_text(json.dumps(data, indent=2))
    return Workspace.from_config(path=str(config_path), backend="azureml-v2",
                                 backend_options={"adapter": shared_fake(tmp_path, identity)})


def _ensure_live_cluster(workspace, name):
    from amlocal.core.compute import AmlCompute, ComputeTarget
    from amlocal.core.compute_target import ComputeTargetException

    try:
        ComputeTarget(workspace, name)
    except ComputeTargetException:
        cluster = ComputeTarget.create(workspace, name, AmlCompute.provisioning_configuration(
            vm_size="STANDARD_DS3_V2", min_nodes=0, max_nodes=2))
        cluster.wait_for_completion(show_output=True)
