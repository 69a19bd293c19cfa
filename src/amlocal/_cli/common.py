"""What the commands share: opening the workspace, reading KEY=VALUE options, and printing
tables, times and durations."""

import json
import os
import sys
import time


def open_workspace(args):
    """The workspace of ``--config`` (a config.json or a directory to search from; default: the
    current directory) with the ``--backend`` chosen, as ``Workspace.from_config`` finds it."""
    from amlocal.core.workspace import Workspace
    from amlocal.exceptions import ConfigError

    path = args.config
    if path is not None and not os.path.exists(path):
        # from_config would search upward from a path that is not there and could find
        # another workspace's config.json in one of its parents.
        raise ConfigError(f"--config {path}: no such file or directory. Pass a config.json, or a directory "
                          "to search for one from.")
    return Workspace.from_config(path=path, backend=args.backend)


def parse_key_values(items, option, value_required=True):
    """["K=V", ...] of a repeated option -> [(key, value)]; a bare "K" gives (K, None) unless a
    value is required."""
    from amlocal.exceptions import InvalidArgumentError

    pairs = []
    for item in items or []:
        key, sep, value = item.partition("=")
        if not key or (value_required and not sep):
            shape = "KEY=VALUE" if value_required else "KEY or KEY=VALUE"
            raise InvalidArgumentError(f"{option} {item!r}: expected {shape}.")
        pairs.append((key, value if sep else None))
    return pairs


def parse_model_ref(text):
    """"name" -> (name, None); "name:3" -> (name, 3)."""
    from amlocal.exceptions import InvalidArgumentError

    name, sep, version = text.rpartition(":")
    if not sep:
        return text, None
    if not name or not version.isdigit() or int(version) < 1:
        raise InvalidArgumentError(f"Invalid model reference {text!r}: use NAME or NAME:VERSION, the version being "
                                   "a whole number >= 1 (for example my-model:2).")
    return name, int(version)


# -- printing ---------------------------------------------------------------------------------

def local_time(epoch, millis=False):
    if epoch is None:
        return "-"
    text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))
    return text + f".{int(epoch % 1 * 1000):03d}" if millis else text


def duration(seconds):
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def short_value(value, width=100):
    """A metric or tag value on one line: plain for scalars, compact JSON otherwise."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        text = str(value)
    else:
        text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= width else text[:width - 3] + "..."


def print_table(headers, rows, out=None):
    out = out or sys.stdout
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    for row in (headers, *rows):
        out.write("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
    out.flush()


def print_section(title, lines, out=None):
    out = out or sys.stdout
    out.write(f"\n{title}\n")
    for line in lines or ["(none)"]:
        out.write(f"  {line}\n")


def print_fields(fields, out=None):
    """Aligned "label  value" lines; fields whose value is None are left out."""
    out = out or sys.stdout
    shown = [(label, value) for label, value in fields if value is not None]
    width = max(len(label) for label, _ in shown)
    for label, value in shown:
        out.write(f"{label.ljust(width)}  {value}\n")


def print_json(data, out=None):
    out = out or sys.stdout
    json.dump(data, out, indent=2, default=str)
    out.write("\n")
