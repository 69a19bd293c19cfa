"""The assets of a fake Azure ML workspace: what both backends' fakes keep alike. Each SDK's
fake subclasses these with its own errors (SDK v1 raises azureml's exceptions with the
Resource Provider's error text, SDK v2 azure-core's with the service's error body) and records.

* ``FakeClusters``: AmlCompute clusters. A created one is "Creating" until it is next looked at,
  then "Succeeded" (or "Failed" when ``fail_provisioning`` planted a failure). Creation is
  refused for an invalid name, a VM size the region does not offer, a change of VM size, or
  clusters that would together pass the dedicated vCPU quota (``core_quota``).
* ``FakeModels``: model versions 1, 2, 3 per name, each a copy of the registered files under
  ``root`` with the paths a download gives them; a removed version leaves the listings and
  "latest", and its number is not given again.
* ``FakeEnvironments``: registered environments, versions "1", "2", ... per name, kept as
  EnvironmentSpecs; curated names (AzureML-...) answer from amlocal's table of Azure's curated
  environments.
"""

import os
import shutil
import threading
from pathlib import Path

from amlocal import curated_environments
from amlocal.exceptions import UnknownCuratedEnvironmentError
from amlocal.rules.names import is_valid_name
from amlocal.rules.vm_sizes import VM_SIZES
from amlocal.specs import replace

DEFAULT_FAILURE = "Allocation failed. We do not have sufficient capacity for the requested VM size in this region."


def public(record):
    """A copy of ``record`` without the fake's own keys (``_...``)."""
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in record.items() if not k.startswith("_")}


class FakeClusters:
    #: the cluster type the SDK reports
    record_type = "AmlCompute"

    def __init__(self, location="eastus", vm_sizes=None, core_quota=None):
        self.location = location
        #: VM size -> (vCPUs, memory GiB) offered in the region
        self.vm_sizes = {size.upper(): spec for size, spec in (vm_sizes or VM_SIZES).items()}
        #: dedicated vCPUs all clusters together may reach (None: no limit)
        self.core_quota = core_quota
        self.clusters = {}
        #: cluster name -> the real SDK object (provisioning configuration or AmlCompute) last received
        self.received = {}
        self._failures = {}
        self._lock = threading.RLock()

    # -- the SDK's errors ------------------------------------------------------------------------
    def _not_found(self, name):
        raise NotImplementedError

    def _bad_request(self, code, message):
        """The error of a refused creation: the service's 400 answer with ``code`` and ``message``."""
        raise NotImplementedError

    def _provisioning_failed(self, name, message):
        raise NotImplementedError

    def _show_end(self, state):
        """What the SDK prints once provisioning ends, after the states it saw."""

    # -- the workspace's clusters --------------------------------------------------------------
    def add(self, name, vm_size="STANDARD_D2_V2", max_nodes=4, min_nodes=0, vm_priority="dedicated"):
        """An existing, provisioned cluster."""
        with self._lock:
            self.clusters[name] = {"name": name, "type": self.record_type, "vm_size": vm_size.upper(),
                                   "vm_priority": vm_priority, "min_nodes": min_nodes, "max_nodes": max_nodes,
                                   "provisioning_state": "Succeeded", "errors": None}

    def fail_provisioning(self, name, message=DEFAULT_FAILURE):
        """The next provisioning of cluster ``name`` ends Failed with ``message``."""
        with self._lock:
            self._failures[name] = message

    def cluster(self, name):
        """The cluster's state (settling a pending provisioning); the SDK's not-found error when none."""
        with self._lock:
            cluster = self.clusters.get(name)
            if cluster is None:
                raise self._not_found(name)
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

    def create(self, name, vm_size, min_nodes, max_nodes, vm_priority, received):
        """Start creating (or updating) cluster ``name`` from ``received``, the SDK's object; its record."""
        if not is_valid_name("compute_target", name):
            raise self._bad_request("BadArgument", f"Compute name {name} is invalid: it must be 2 to 24 letters, "
                                                   "digits or hyphens and start with a letter.")
        size = (vm_size or "").upper()
        if size not in self.vm_sizes:
            raise self._bad_request("BadArgument", f"The specified VM size {vm_size} is not supported in region "
                                                   f"{self.location}. Please choose a different VM size.")
        with self._lock:
            existing = self.clusters.get(name)
            if existing and existing["vm_size"] != size:
                raise self._bad_request("BadArgument", f"Updating the VM size of compute {name} from "
                                                       f"{existing['vm_size']} to {size} is not supported.")
            self._check_quota(name, size, max_nodes)
            self.received[name] = received
            self.clusters[name] = {"name": name, "type": self.record_type, "vm_size": size, "vm_priority": vm_priority,
                                   "min_nodes": min_nodes, "max_nodes": max_nodes, "provisioning_state": "Creating",
                                   "errors": None}
            return self.record(self.clusters[name])

    def _check_quota(self, name, size, max_nodes):
        if self.core_quota is None:
            return
        used = sum(self.vm_sizes[c["vm_size"]][0] * c["max_nodes"] for n, c in self.clusters.items()
                   if n != name and c["vm_size"] in self.vm_sizes)
        requested = self.vm_sizes[size][0] * max_nodes
        if used + requested > self.core_quota:
            raise self._bad_request("QuotaExceeded",
                                    "Operation results in exceeding quota limits of Total Cluster Dedicated Regional "
                                    f"vCPUs. Maximum allowed: {self.core_quota}, Current in use: {used}, Additional "
                                    f"requested: {requested}.")

    def wait(self, name, show_output=False):
        """Provisioning's end (printed as the SDK prints it); the SDK's error when it failed."""
        with self._lock:
            was = self.clusters.get(name, {}).get("provisioning_state")
            cluster = self.cluster(name)
            state = cluster["provisioning_state"]
        if show_output:
            print(f"{was}\n{state}" if was and was != state else state)
            self._show_end(state)
        if state == "Failed":
            raise self._provisioning_failed(name, cluster["errors"])
        return self.record(cluster)


def layout_of(source):
    """{file: its path in a download} of a local file or folder registered as a model: the file,
    or each file of the folder, under the file's or the folder's own name."""
    source = Path(source)
    if source.is_dir():
        return {p: (Path(source.name) / p.relative_to(source)).as_posix() for p in sorted(source.rglob("*"))
                if p.is_file()}
    return {source: source.name}


class FakeModels:
    """A version is a set of files, each with the path a download gives it under its target
    directory, as Azure's model asset is a set of artifacts."""

    def __init__(self, root, workspace):
        self.root = Path(root)
        self.workspace = workspace
        self.models = {}  # name -> [model records, version 1 first]
        self._lock = threading.RLock()

    # -- the SDK's own ---------------------------------------------------------------------------
    def _invalid_name(self, name):
        raise NotImplementedError

    def _not_found(self, name, version):
        raise NotImplementedError

    def _already_there(self, target):
        """The error of a download onto a file that is there (when that is refused)."""
        raise NotImplementedError

    def _record(self, name, version, **fields):
        """The SDK's record of a new version (its public keys), from the fields ``store`` received."""
        raise NotImplementedError

    # -- versions --------------------------------------------------------------------------------
    def check_name(self, name):
        if not is_valid_name("model", name):
            raise self._invalid_name(name)

    def store(self, name, layout, **fields):
        """The files of ``layout`` ({source file: its path in a download}) as the next version of ``name``."""
        self.check_name(name)
        with self._lock:
            versions = self.models.setdefault(name, [])
            version = len(versions) + 1
            stored = self.root / name / str(version)
            for source, relative in layout.items():
                (stored / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, stored / relative)
            record = dict(self._record(name, version, **fields), _stored=stored, _files=sorted(layout.values()),
                          _removed=False)
            versions.append(record)
            return public(record)

    def _model(self, name, version):
        with self._lock:
            versions = self.models.get(name) or []
            present = [m for m in versions if not m["_removed"]]
            if version is None and present:
                return present[-1]
            if version is not None and 1 <= int(version) <= len(versions):
                model = versions[int(version) - 1]
                if not model["_removed"]:
                    return model
        raise self._not_found(name, version)

    def get(self, name, version=None):
        return public(self._model(name, version))

    def delete(self, name, version):
        """The version leaves the listings and "latest"; its number is never given again (as on Azure)."""
        model = self._model(name, version)
        with self._lock:
            model["_removed"] = True

    def present(self, name=None):
        """Every version not removed (of ``name``, or of all models), by name, newest version first."""
        with self._lock:
            found = [m for n, versions in self.models.items() if name in (None, n) for m in versions
                     if not m["_removed"]]
        found.sort(key=lambda m: (m["name"], -m["version"]))
        return [public(m) for m in found]

    def copy_out(self, model, target_dir, exist_ok=True):
        """Write the files of ``model`` (a record from ``_model``) under ``target_dir``; a file
        already there is refused (``_already_there``) unless ``exist_ok``."""
        target_dir = Path(os.path.normpath(str(target_dir)))
        for relative in model["_files"]:
            target = target_dir / relative
            if target.exists() and not exist_ok:
                raise self._already_there(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(model["_stored"] / relative, target)
        return target_dir


class FakeEnvironments:
    def __init__(self, workspace):
        self.workspace = workspace
        self.versions = {}  # name -> [EnvironmentSpec of version 1, 2, ...]
        self._lock = threading.RLock()

    def _not_found(self, name, version):
        raise NotImplementedError

    def add(self, name, spec):
        """Keep ``spec`` as the next version of ``name``; that version ("1", "2", ...)."""
        with self._lock:
            versions = self.versions.setdefault(name, [])
            versions.append(spec)
            return str(len(versions))

    def get(self, name, version=None):
        if curated_environments.is_curated_name(name):  # Azure's own: known as amlocal's table knows them
            try:
                spec = curated_environments.lookup(name)
            except UnknownCuratedEnvironmentError:
                raise self._not_found(name, version) from None
            return replace(spec, version=str(version)) if version else spec
        with self._lock:
            versions = self.versions.get(name) or []
            index = len(versions) if version is None else int(version)
            if not 1 <= index <= len(versions):
                raise self._not_found(name, version)
            return replace(versions[index - 1], version=str(index))

    def list(self):
        found = {name: curated_environments.lookup(name) for name in curated_environments.known_names()}
        with self._lock:
            names = list(self.versions)
        found.update({name: self.get(name) for name in names})
        return found
