"""The processes of this machine, as their command lines say."""

import os


def command_lines():
    """(pid, arguments as a list of bytes) of each process of this machine; a process that ends
    while it is read is left out."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                arguments = handle.read().split(b"\0")
        except OSError:
            continue
        yield int(entry), arguments
