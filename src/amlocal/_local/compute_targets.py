"""Compute targets of a local workspace: rows in the database. A node is a slot
(``node_slots``): ``max_nodes`` runs of a target run at once, and ``vm_size`` sets each
run's CPU and memory limits (``resources``)."""

import time

from ..exceptions import ComputeTargetException, InvalidNameError
from ..rules.names import validate_name
from ..rules.vm_sizes import VM_SIZES, known_vm_size
from ..stores.compute_targets import ComputeTargets
from .resources import limits_for


class LocalComputeTargets(ComputeTargets):
    def __init__(self, store, workspace_name):
        self.store = store
        self.workspace_name = workspace_name

    def get(self, name):
        rows = self.store.read("SELECT * FROM compute_targets WHERE name = ?", (name,))
        if not rows:
            raise ComputeTargetException(f"ComputeTargetNotFound: Compute Target with name {name} not found in "
                                         f"provided workspace {self.workspace_name}. `amlocal compute list` shows "
                                         "the workspace's compute targets; ComputeTarget.create(...) makes one.")
        return dict(rows[0])

    def create(self, name, configuration):
        try:
            validate_name("compute_target", name)
        except InvalidNameError as err:  # azureml's type for a bad compute name
            raise ComputeTargetException(str(err)) from err
        vm_size = configuration.get("vm_size")
        if not known_vm_size(vm_size):
            raise ComputeTargetException(
                f"Unknown vm_size {vm_size!r}. Known sizes: {', '.join(sorted(VM_SIZES))}.")
        with self.store.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO compute_targets VALUES (?, 'AmlCompute', ?, ?, ?, ?, ?, 'Succeeded', ?)",
                         (name, vm_size.upper(), configuration.get("vm_priority", "dedicated"),
                          configuration.get("min_nodes", 0), configuration["max_nodes"],
                          configuration.get("idle_seconds_before_scaledown", 1800), time.time()))
        return self.get(name)

    def wait(self, name, show_output=False, timeout_in_minutes=25):
        record = self.get(name)
        if show_output:
            cpus, memory = limits_for(record["vm_size"])
            print(f"Provisioning operation finished, operation \"{record['provisioning_state']}\"\n"
                  f"{record['provisioning_state']}\nAmlCompute wait for completion finished\n\n"
                  f"{name}: {record['vm_size']} -> {cpus:g} CPUs, {memory / (1 << 30):.1f} GiB per node, "
                  f"{record['max_nodes']} nodes at most")
        return record

    def list(self):
        return [dict(row) for row in self.store.read("SELECT * FROM compute_targets ORDER BY name")]
