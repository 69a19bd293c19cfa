"""Azure VM sizes a compute target may name, as (vCPUs, memory GiB)."""

VM_SIZES = {
    "STANDARD_D1_V2": (1, 3.5), "STANDARD_D2_V2": (2, 7), "STANDARD_D3_V2": (4, 14), "STANDARD_D4_V2": (8, 28),
    "STANDARD_D5_V2": (16, 56), "STANDARD_D11_V2": (2, 14), "STANDARD_D12_V2": (4, 28), "STANDARD_D13_V2": (8, 56),
    "STANDARD_D14_V2": (16, 112), "STANDARD_DS1_V2": (1, 3.5), "STANDARD_DS2_V2": (2, 7), "STANDARD_DS3_V2": (4, 14),
    "STANDARD_DS4_V2": (8, 28), "STANDARD_DS11_V2": (2, 14), "STANDARD_DS12_V2": (4, 28),
    "STANDARD_D2_V3": (2, 8), "STANDARD_D4_V3": (4, 16), "STANDARD_D8_V3": (8, 32), "STANDARD_D16_V3": (16, 64),
    "STANDARD_D2S_V3": (2, 8), "STANDARD_D4S_V3": (4, 16), "STANDARD_D8S_V3": (8, 32),
    "STANDARD_D2AS_V4": (2, 8), "STANDARD_D4AS_V4": (4, 16), "STANDARD_D2DS_V4": (2, 8), "STANDARD_D4DS_V4": (4, 16),
    "STANDARD_E2S_V3": (2, 16), "STANDARD_E4S_V3": (4, 32), "STANDARD_E8S_V3": (8, 64),
    "STANDARD_F2S_V2": (2, 4), "STANDARD_F4S_V2": (4, 8), "STANDARD_F8S_V2": (8, 16), "STANDARD_F16S_V2": (16, 32),
    "STANDARD_B1LS": (1, 0.5), "STANDARD_B1S": (1, 1), "STANDARD_B1MS": (1, 2), "STANDARD_B2S": (2, 4),
    "STANDARD_B2MS": (2, 8), "STANDARD_B4MS": (4, 16),
    "STANDARD_A1_V2": (1, 2), "STANDARD_A2_V2": (2, 4), "STANDARD_A4_V2": (4, 8), "STANDARD_A8_V2": (8, 16),
    "STANDARD_NC6": (6, 56), "STANDARD_NC12": (12, 112), "STANDARD_NC6S_V3": (6, 112),
    "STANDARD_NC4AS_T4_V3": (4, 28), "STANDARD_NV6": (6, 56),
}


def known_vm_size(vm_size):
    return str(vm_size).upper() in VM_SIZES


def vm_size_resources(vm_size):
    """(vCPUs, memory GiB) of ``vm_size``; KeyError for a size not in the table."""
    return VM_SIZES[str(vm_size).upper()]
