"""Clusters, datastores, models and environments of ``FakeV2Adapter``'s workspace, answering as
Azure does.

* Clusters: a created one is "Creating" until next looked at, then "Succeeded" (or "Failed"
  when ``fail_provisioning`` planted a failure). Creation is refused, with the service's error
  body, for an invalid name, a VM size the region does not offer, a change of VM size, or
  clusters that would together pass the vCPU quota.
* Datastores: "workspaceblobstore" (AzureBlob) and "workspacefilestore" (AzureFile) exist; files
  live under ``root``. Files of an AzureFile datastore are refused, as azure-ai-ml's
  ``get_datastore_info`` (which the real adapter uses for them) refuses it.
* Models: versions 1, 2, 3 per name, files copied under ``root``; an archived (deleted) version
  leaves the listings and "latest", and its number is not given again.
* Environments: versions "1", "2", ... per name of what ``create_or_update`` received (the real
  ``Environment`` entity, read back as an EnvironmentSpec); curated names (AzureML-...) answer from
  amlocal's table of Azure's curated environments.
"""

import re
import shutil
import threading
import time
from pathlib import Path

from amlocal.curated_environments import is_curated_name
from amlocal.rules.names import is_valid_name
from amlocal.rules.vm_sizes import VM_SIZES

from ._fake_errors import http_error, ml_exception, not_found

DEFAULT_FAILURE = "Allocation failed. We do not have sufficient capacity for the requested VM size in this region."
JOB_ARTIFACT = re.compile(r"^azureml://jobs/(?P<job>[^/]+)/outputs/artifacts/paths/(?P<path>.+)$")
DATASTORE_TYPES = {"workspaceblobstore": "AzureBlob", "workspacefilestore": "AzureFile"}


class FakeClusters:
    def __init__(self, workspace, location="eastus", vm_sizes=None, core_quota=None):
        self.workspace = workspace
        self.location = location
        self.vm_sizes = {size.upper(): spec for size, spec in (vm_sizes or VM_SIZES).items()}
        self.core_quota = core_quota
        self.clusters = {}
        #: cluster name -> the real AmlCompute last received
        self.received = {}
        self._failures = {}
        self._lock = threading.RLock()

    def add(self, name, vm_size="STANDARD_D2_V2", max_nodes=4, min_nodes=0, vm_priority="dedicated"):
        with self._lock:
            self.clusters[name] = {"name": name, "type": "amlcompute", "vm_size": vm_size.upper(),
                                   "vm_priority": vm_priority, "min_nodes": min_nodes, "max_nodes": max_nodes,
                                   "provisioning_state": "Succeeded", "errors": None}

    def fail_provisioning(self, name, message=DEFAULT_FAILURE):
        with self._lock:
            self._failures[name] = message

    def cluster(self, name):
        with self._lock:
            cluster = self.clusters.get(name)
            if cluster is None:
                raise not_found("Compute", name, self.workspace)
            if cluster["provisioning_state"] == "Creating":
                failure = self._failures.pop(name, None)
                cluster["provisioning_state"] = "Failed" if failure else "Succeeded"
                cluster["errors"] = failure
            return cluster

    @staticmethod
    def record(cluster):
        return {k: v for k, v in cluster.items() if k != "errors"}

    def get(self, name):
        return self.record(self.cluster(name))

    def list(self):
        with self._lock:
            names = sorted(self.clusters)
        return [self.get(name) for name in names]

    def create(self, compute):
        from azure.ai.ml.entities import AmlCompute

        if not isinstance(compute, AmlCompute):
            raise ml_exception(f"create_compute takes an azure.ai.ml.entities.AmlCompute, got {type(compute).__name__}")
        name = compute.name
        if not is_valid_name("compute_target", name):
            raise http_error(400, "BadArgument", f"Compute name {name} is invalid: it must be 2 to 24 letters, digits "
                                                 "or hyphens and start with a letter.")
        size = (compute.size or "").upper()
        if size not in self.vm_sizes:
            raise http_error(400, "BadArgument", f"The specified VM size {compute.size} is not supported in region "
                                                 f"{self.location}. Please choose a different VM size.")
        with self._lock:
            existing = self.clusters.get(name)
            if existing and existing["vm_size"] != size:
                raise http_error(400, "BadArgument", f"Updating the VM size of compute {name} from "
                                                     f"{existing['vm_size']} to {size} is not supported.")
            self._check_quota(name, size, compute.max_instances)
            self.received[name] = compute
            self.clusters[name] = {"name": name, "type": "amlcompute", "vm_size": size,
                                   "vm_priority": "lowpriority" if (compute.tier or "").lower() == "low_priority"
                                   else "dedicated",
                                   "min_nodes": compute.min_instances, "max_nodes": compute.max_instances,
                                   "provisioning_state": "Creating", "errors": None}
            return self.record(self.clusters[name])

    def _check_quota(self, name, size, max_nodes):
        if self.core_quota is None:
            return
        used = sum(self.vm_sizes[c["vm_size"]][0] * c["max_nodes"] for n, c in self.clusters.items()
                   if n != name and c["vm_size"] in self.vm_sizes)
        requested = self.vm_sizes[size][0] * max_nodes
        if used + requested > self.core_quota:
            raise http_error(400, "QuotaExceeded",
                             "Operation results in exceeding quota limits of Total Cluster Dedicated Regional vCPUs. "
                             f"Maximum allowed: {self.core_quota}, Current in use: {used}, Additional requested: "
                             f"{requested}.")

    def wait(self, name, show_output=False):
        """Provisioning's end; HttpResponseError (the LRO's failure) when it failed."""
        with self._lock:
            was = self.clusters.get(name, {}).get("provisioning_state")
            cluster = self.cluster(name)
            state = cluster["provisioning_state"]
        if show_output:
            print(f"{was}\n{state}" if was and was != state else state)
        if state == "Failed":
            raise http_error(400, "ComputeProvisioningFailed",
                             f"Compute {name} provisioning failed: {cluster['errors']}")
        return self.record(cluster)


class FakeDatastores:
    def __init__(self, root, workspace):
        self.root = Path(root)
        self.workspace = workspace
        self.types = dict(DATASTORE_TYPES)

    def add(self, name, kind="AzureBlob"):
        self.types[name] = kind

    def directory(self, name, blob_only=False):
        if name not in self.types:
            raise not_found("Datastore", name, self.workspace)
        kind = self.types[name]
        if blob_only and kind == "AzureFile":
            # azure.ai.ml._artifacts._artifact_utilities.get_datastore_info's own refusal
            raise ml_exception(f"Datastore type {kind} is not supported for uploads. Supported types are AzureBlob "
                               "and AzureDataLakeGen2.")
        if blob_only and kind != "AzureBlob":  # SdkV2Adapter's refusal
            raise ml_exception(f"Datastore {name} is of type {kind}; amlocal reads and writes files of Azure Blob "
                               "datastores (such as workspaceblobstore) only.")
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder


class FakeModels:
    def __init__(self, root, workspace):
        self.root = Path(root)
        self.workspace = workspace
        self.models = {}  # name -> [records, version 1 first]
        self._lock = threading.RLock()

    def add(self, model, source, job_name=None, source_address=None):
        """Store a copy of ``source`` as the next version of ``model.name``."""
        name = model.name
        if not is_valid_name("model", name):
            raise http_error(400, "UserError", f"Model name {name} is invalid: it must start with a letter or digit "
                                               "and have at most 255 letters, digits, '-', '.' or '_'.")
        with self._lock:
            versions = self.models.setdefault(name, [])
            version = len(versions) + 1
            stored = self.root / name / str(version) / Path(source).name
            stored.parent.mkdir(parents=True, exist_ok=True)
            if Path(source).is_dir():
                shutil.copytree(source, stored)
            else:
                shutil.copyfile(source, stored)
            address = source_address or (f"azureml://datastores/workspaceblobstore/paths/LocalUpload/{name}/"
                                         f"{version}/{Path(source).name}")
            record = {"name": name, "version": version, "job_name": job_name, "tags": dict(model.tags or {}),
                      "properties": dict(model.properties or {}), "description": model.description,
                      "created_time": time.time(), "path": address,
                      "id": f"azureml:/subscriptions/fake/workspaces/{self.workspace}/models/{name}/versions/{version}",
                      "_stored": stored, "_archived": False}
            versions.append(record)
            return public(record)

    def _model(self, name, version):
        with self._lock:
            versions = self.models.get(name) or []
            present = [m for m in versions if not m["_archived"]]
            if version is None and present:
                return present[-1]
            if version is not None and 1 <= int(version) <= len(versions) and not versions[int(version) - 1]["_archived"]:
                return versions[int(version) - 1]
        raise not_found("Model container" if version is None else "Model version",
                        name if version is None else f"{name}:{version}", self.workspace)

    def get(self, name, version=None):
        return public(self._model(name, version))

    def delete(self, name, version):
        """``models.archive``: the version stays stored but is no longer listed nor "latest"."""
        model = self._model(name, version)
        with self._lock:
            model["_archived"] = True

    def list(self, name=None):
        with self._lock:
            if name is not None and name not in self.models:
                raise not_found("Model container", name, self.workspace)
            found = [m for n, versions in self.models.items() if name in (None, n) for m in versions
                     if not m["_archived"]]
        found.sort(key=lambda m: (m["name"], -m["version"]))
        return [public(m) for m in found]

    def download(self, name, version, target_dir):
        stored = self._model(name, version)["_stored"]
        target = Path(target_dir) / stored.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if stored.is_dir():
            shutil.copytree(stored, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(stored, target)
        return str(target)


class FakeEnvironments:
    def __init__(self, workspace):
        self.workspace = workspace
        self.environments = {}  # name -> [EnvironmentSpec of version 1, 2, ...]
        self._lock = threading.RLock()

    def register(self, environment):
        from azure.ai.ml.entities import Environment

        from .translate import from_environment

        if not isinstance(environment, Environment) or not environment.name:
            raise ml_exception(f"register_environment takes a named azure.ai.ml.entities.Environment, got "
                               f"{environment!r}")
        if environment.version:
            raise ml_exception("the fake numbers environment versions itself: register one without a version")
        if is_curated_name(environment.name):
            raise http_error(400, "UserError", f"Environment name {environment.name} is reserved: names starting "
                                               "with 'AzureML' are Azure ML's curated environments.")
        with self._lock:
            versions = self.environments.setdefault(environment.name, [])
            versions.append(from_environment(environment))
            return str(len(versions))

    def get(self, name, version=None):
        from amlocal import curated_environments
        from amlocal.exceptions import UnknownCuratedEnvironmentError
        from amlocal.specs import replace

        if is_curated_name(name):
            try:
                spec = curated_environments.lookup(name)
            except UnknownCuratedEnvironmentError:
                raise not_found("Environment", name, self.workspace) from None
            return replace(spec, version=str(version)) if version else spec
        with self._lock:
            versions = self.environments.get(name) or []
            index = len(versions) if version is None else int(version)
            if not 1 <= index <= len(versions):
                raise not_found("Environment" if version is None else "Environment version",
                                name if version is None else f"{name}:{version}", self.workspace)
            return replace(versions[index - 1], version=str(index))

    def list(self):
        from amlocal import curated_environments

        found = {name: curated_environments.lookup(name) for name in curated_environments.known_names()}
        with self._lock:
            names = list(self.environments)
        found.update({name: self.get(name) for name in names})
        return found


def public(record):
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in record.items() if not k.startswith("_")}
