"""What a local run may use: a compute target's VM size as CPU and memory limits, clamped to
this machine, and the limits of a run with no compute target."""

import os

from ..rules.vm_sizes import vm_size_resources

#: memory limit of a containerised run without a compute target, before clamping to the host
DEFAULT_MEMORY_BYTES = 8 << 30
#: process limit of a containerised run (fork bombs end at this, not at the host's limit)
DEFAULT_PIDS_LIMIT = 4096


def host_memory_bytes():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def host_cpus():
    return float(os.cpu_count() or 1)


def limits_for(vm_size):
    """(cpus, memory bytes) for a run: ``vm_size``'s, or the defaults when None; each at most
    what the host has."""
    if vm_size is None:
        return None, min(DEFAULT_MEMORY_BYTES, host_memory_bytes())
    cpus, memory_gib = vm_size_resources(vm_size)
    return min(float(cpus), host_cpus()), min(int(memory_gib * (1 << 30)), host_memory_bytes())
