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
    """"12.3s", "4m 05s", "2h 07m"; "-" for None (also what the studio shows)."""
    if seconds is None:
        return "-"
    seconds = max(0.0, float(seconds))
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


def print_table(headers, rows, out=None, colour_columns=()):
    """Aligned columns; the cells of ``colour_columns`` (indexes) coloured by status on a terminal."""
    out = out or sys.stdout
    colour = use_colour(out) and colour_columns
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    for index, row in enumerate((headers, *rows)):
        cells = []
        for column, (cell, width) in enumerate(zip(row, widths)):
            text = str(cell).ljust(width)
            code = status_colour(cell) if colour and index and column in colour_columns else None
            cells.append(f"\033[{code}m{text}\033[0m" if code else text)
        out.write("  ".join(cells).rstrip() + "\n")
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


# -- output formats and colour -----------------------------------------------------------------

STATUS_COLOURS = {"Completed": "32", "Failed": "31", "Canceled": "33", "CancelRequested": "33",
                  "Running": "36", "Finalizing": "36", "Starting": "36", "Preparing": "36", "Queued": "34",
                  "NotStarted": "34"}


def use_colour(stream=None):
    """Colour only for a terminal, and never with NO_COLOR set (https://no-color.org) or TERM=dumb."""
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def status_colour(text):
    return STATUS_COLOURS.get(str(text).strip())


def emit(args, headers, rows, data, colour_columns=()):
    """Print a list or a show as ``--output`` asks: a table (the default; statuses coloured on
    a terminal), tab-separated values (a header line, then one line per row), or JSON (``data``,
    the same the studio's API answers)."""
    output = getattr(args, "output", None) or "table"
    if output == "json":
        print_json(data)
    elif output == "tsv":
        write_tsv(headers, rows)
    else:
        print_table(headers, rows, colour_columns=colour_columns)


def write_tsv(headers, rows, out=None):
    out = out or sys.stdout
    for row in (headers, *rows):
        out.write("\t".join(_tsv_cell(cell) for cell in row) + "\n")
    out.flush()


def _tsv_cell(cell):
    return str("" if cell is None else cell).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
