"""Validated ingestion of a job's event stream (``<control>/events.jsonl``).

The job is untrusted code and its control directory is writable by it, so everything read
here is hostile input: the file may be a link, a FIFO, 10 GB long, hold a 1 GB line, lines
that are not JSON, events with missing keys, wrong types, NaN where a number must be finite,
names with '..' or control characters, uploads that point at host files. ``EventReader``
turns it into plain results for the supervisor to act on:

* ``metrics``: dicts ``{name, type, value, step, description, time}`` as
  ``RunHistory.log_metrics`` takes them;
* ``tags``: ``{key: value}``;
* ``uploads``: ``UploadToCopy`` items whose source is a regular file inside
  ``<control>/uploads/`` reached without following any link, and whose run file name is
  valid (``amlocal.rules.paths.run_file_name``); copy them with ``copy_uploads``, which
  opens each again without following links (the job may swap a file for a link meanwhile);
* ``statuses``: ``StatusNote`` items from ``run.complete()`` / ``run.fail()``;
* ``warnings``: one line per event that was refused, to go into the run's control log.

A bad event is never acted on and never raises: it becomes a warning. Every field is
checked (see ``_metric``, ``_tag``, ``_upload``, ``_status``) and the run as a whole is capped
by ``EventLimits`` (the defaults are generous guards for the host, larger than what a sane
training script logs; they are not Azure ML's quotas). Warnings themselves are capped per run
(``max_warnings``) so a job cannot flood the log; the rest are counted in the state.

The reader is bounded: each ``read()`` takes at most ``max_read_bytes`` of the file in 1 MiB
chunks and holds at most one line (``max_line_bytes``) besides; a longer line is skipped with
a warning, without being held; past ``max_file_bytes`` the rest of the file is ignored. When
``read()`` returns ``more=True``, call it again. ``EventReader.state`` is plain data
(``to_dict``/``from_dict``), so a supervisor that takes over a run goes on where the last
one stopped.
"""

import json
import math
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .._runtime import EVENTS_FILE, UPLOADS_DIR
from ..rules import paths
from ..rules.errors import RuleViolation, shown

_CHUNK = 1 << 20
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")
_SCALARS = (type(None), bool, int, float, str)
METRIC_TYPES = ("scalar", "list", "row", "table", "image", "confusion_matrix")
STATUSES = ("Completed", "Failed")
# Run files the host writes itself; a job may not replace them through an upload.
RESERVED_RUN_FILE_PREFIXES = ("azureml-logs/",)
_INT64 = 1 << 63


@dataclass(frozen=True)
class EventLimits:
    """Caps on what one run's events may do. Defaults in parentheses."""
    max_line_bytes: int = 4 << 20            # one event line (4 MiB)
    max_read_bytes: int = 16 << 20           # read by one read() call (16 MiB)
    max_file_bytes: int = 4 << 30            # of the events file in all; the rest is ignored (4 GiB)
    max_name_chars: int = 255                # metric name, tag key, row/table column name
    max_description_chars: int = 4096
    max_value_bytes: int = 1 << 20           # one metric value as JSON (1 MiB)
    max_value_depth: int = 32                # nesting of lists/dicts in a metric value
    max_tag_value_chars: int = 4096
    max_error_chars: int = 16384             # error text of a status event (longer is cut)
    max_metrics: int = 1_000_000             # metric events per run
    max_tags: int = 10_000                   # distinct tag keys per run
    max_uploads: int = 10_000                # upload events per run
    max_upload_bytes: int = 5 << 30          # one uploaded file (5 GiB)
    max_upload_total_bytes: int = 20 << 30   # all uploads of a run (20 GiB)
    max_warnings: int = 200                  # warning lines per run; more are only counted


@dataclass
class IngestState:
    """Where a run's ingestion stands; plain data to persist between supervisors."""
    offset: int = 0                  # bytes of the events file consumed
    skipping: bool = False           # inside an over-long line, skipping to its newline
    metrics: int = 0
    tag_keys: list = field(default_factory=list)
    uploads: int = 0
    upload_bytes: int = 0
    warnings: int = 0                # warnings shown
    warnings_suppressed: int = 0     # warnings past max_warnings, only counted
    capped: list = field(default_factory=list)   # caps already reported once

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


@dataclass(frozen=True)
class UploadToCopy:
    """A file the job uploaded: ``name`` is its run file name; its content is the regular file
    ``source_root/source`` (``source_root`` = the control directory, ``source`` =
    ``uploads/<name>``, no link followed below the root), ``size`` bytes when checked."""
    name: str
    source_root: str
    source: str
    size: int


@dataclass(frozen=True)
class StatusNote:
    """``run.complete()`` / ``run.fail()`` in the job: informational, the exit status decides."""
    status: str
    error: str = None
    error_code: str = None

    def line(self):
        """One log line, control characters escaped."""
        text = "The script reported {}".format(self.status)
        if self.error:
            text += ": " + _one_line(self.error)
        if self.error_code:
            text += " (code {})".format(_one_line(self.error_code))
        return text


@dataclass(frozen=True)
class EventBatch:
    metrics: tuple = ()
    tags: dict = field(default_factory=dict)
    uploads: tuple = ()
    statuses: tuple = ()
    warnings: tuple = ()
    more: bool = False               # unread events remain: call read() again


class _Refused(Exception):
    """An event failed a check; the message says which."""


class _Dropped(Exception):
    """An event over a per-run cap: dropped, the cap having been reported once."""


def _one_line(text):
    return _CONTROL_CHARACTER.sub(lambda m: "\\x{:02x}".format(ord(m.group())), text)


class EventReader:
    """Reads ``<control_dir>/events.jsonl`` incrementally; see the module docstring."""

    def __init__(self, control_dir, limits=None, state=None):
        self.control_dir = Path(control_dir)
        self.limits = limits or EventLimits()
        self.state = state if isinstance(state, IngestState) else IngestState.from_dict(state or {})
        self._tag_keys = set(self.state.tag_keys)

    # -- reading ----------------------------------------------------------------------------
    def read(self, final=False):
        """The events appended since the last call, validated, as an ``EventBatch``.

        ``final=True`` once the job has ended: a last line without its newline is then
        reported and dropped instead of waiting for the rest. Never raises for anything the
        job wrote; OSError only for failures of the host itself (e.g. EIO).
        """
        self._out = {"metrics": [], "tags": {}, "uploads": [], "statuses": [], "warnings": []}
        more = False
        try:
            fd = paths.open_file_under(self.control_dir, EVENTS_FILE, "events file")
        except FileNotFoundError:
            return self._batch(False)
        except RuleViolation as error:
            self._warn_once("events-file", "{}: {}; no events were read.".format(EVENTS_FILE, error.rule))
            return self._batch(False)
        try:
            more = self._read_from(fd, final)
        finally:
            os.close(fd)
        return self._batch(more)

    def _batch(self, more):
        self.state.tag_keys = sorted(self._tag_keys)
        out = self._out
        return EventBatch(tuple(out["metrics"]), out["tags"], tuple(out["uploads"]), tuple(out["statuses"]),
                          tuple(out["warnings"]), more)

    def _read_from(self, fd, final):
        state, limits = self.state, self.limits
        size = os.fstat(fd).st_size
        if size < state.offset:
            self._warn("{} shrank from {:,} to {:,} bytes; reading on from its new end."
                       .format(EVENTS_FILE, state.offset, size))
            state.offset, state.skipping = size, False
            return False
        budget = min(limits.max_read_bytes, limits.max_file_bytes - state.offset)
        if budget <= 0:
            if size > state.offset:
                self._warn_once("file", "{} is over {:,} bytes; the events after that were ignored."
                                .format(EVENTS_FILE, limits.max_file_bytes))
            return False
        os.lseek(fd, state.offset, os.SEEK_SET)
        start_offset = state.offset
        pending = b""           # the start of a line whose newline has not been read yet
        pending_at = state.offset
        taken = 0
        while taken < budget:
            chunk = os.read(fd, min(_CHUNK, budget - taken))
            if not chunk:
                break
            taken += len(chunk)
            start = 0
            if state.skipping:
                newline = chunk.find(b"\n")
                if newline < 0:
                    state.offset += len(chunk)
                    pending_at = state.offset
                    continue
                state.skipping = False
                start = newline + 1
                state.offset += start
                pending_at = state.offset
            data = pending + chunk[start:] if pending else chunk[start:]
            begin = 0
            while True:
                newline = data.find(b"\n", begin)
                if newline < 0:
                    break
                line_at = pending_at + begin
                self._line(data[begin:newline], line_at)
                begin = newline + 1
            state.offset = pending_at + begin
            pending = data[begin:]
            pending_at = state.offset
            if len(pending) > limits.max_line_bytes:
                self._warn("{} line at byte {:,} is longer than {:,} bytes; it was skipped."
                           .format(EVENTS_FILE, pending_at, limits.max_line_bytes))
                state.offset += len(pending)
                pending, pending_at = b"", state.offset
                state.skipping = True
        if pending and taken >= budget:
            if start_offset + taken >= limits.max_file_bytes:
                self._warn_once("file", "{} is over {:,} bytes; the events after that were ignored."
                                .format(EVENTS_FILE, limits.max_file_bytes))
                state.offset += len(pending)
                return False
            if state.offset == start_offset:  # one line longer than a whole read: never completes
                self._warn("{} line at byte {:,} is longer than {:,} bytes; it was skipped."
                           .format(EVENTS_FILE, pending_at, len(pending)))
                state.offset += len(pending)
                pending, state.skipping = b"", True
        if final and pending and taken < budget:
            self._warn("{} ends with an incomplete line at byte {:,} ({:,} bytes without a newline); "
                       "it was ignored.".format(EVENTS_FILE, pending_at, len(pending)))
            state.offset += len(pending)
        if final and state.skipping and taken < budget:
            state.skipping = False
        return taken >= budget and state.offset + len(pending) < size

    def _line(self, raw, at):
        if len(raw) > self.limits.max_line_bytes:
            self._warn("{} line at byte {:,} is longer than {:,} bytes; it was skipped."
                       .format(EVENTS_FILE, at, self.limits.max_line_bytes))
            return
        if not raw.strip():
            return
        try:
            event = json.loads(raw.decode("utf-8"))
        except Exception as error:  # ValueError, UnicodeDecodeError, RecursionError on deep nesting
            self._warn("{} line at byte {:,} is not a JSON object ({}); it was ignored."
                       .format(EVENTS_FILE, at, type(error).__name__))
            return
        if not isinstance(event, dict):
            self._warn("{} line at byte {:,} is {} rather than a JSON object; it was ignored."
                       .format(EVENTS_FILE, at, type(event).__name__))
            return
        kind = event.get("kind")
        handler = {"metric": self._metric, "tag": self._tag, "upload": self._upload,
                   "status": self._status}.get(kind) if isinstance(kind, str) else None
        try:
            if handler is None:
                raise _Refused("unknown kind {}".format(shown(kind, 40)))
            handler(event)
        except _Dropped:
            pass
        except _Refused as refused:
            self._warn("{} line at byte {:,} ({} event): {}; the event was ignored."
                       .format(EVENTS_FILE, at, shown(kind, 40) if handler is None else kind, refused))

    # -- warnings -----------------------------------------------------------------------------
    def _warn(self, text):
        state = self.state
        if state.warnings < self.limits.max_warnings:
            state.warnings += 1
            self._out["warnings"].append(_one_line(text))
            if state.warnings == self.limits.max_warnings:
                self._out["warnings"].append("Further warnings about this run's events are not shown "
                                             "(at most {} are).".format(self.limits.max_warnings))
        else:
            state.warnings_suppressed += 1

    def _warn_once(self, cap, text):
        if cap not in self.state.capped:
            self.state.capped.append(cap)
            self._warn(text)

    def _over_cap(self, cap, text):
        self._warn_once(cap, text)
        raise _Dropped()

    # -- per kind -----------------------------------------------------------------------------
    def _metric(self, event):
        limits = self.limits
        name = _name(event, "name", limits.max_name_chars)
        kind = event.get("type", "scalar")
        if kind not in METRIC_TYPES:
            raise _Refused("metric {!r} has type {}, not one of {}".format(name, shown(kind, 40),
                                                                           ", ".join(METRIC_TYPES)))
        when = _time(event)
        step = event.get("step")
        if step is not None:
            if type(step) is not int or not -_INT64 <= step < _INT64:
                raise _Refused("metric {!r} has step {}, not an integer or null".format(name, shown(step, 40)))
            if kind != "scalar":
                raise _Refused("metric {!r} of type {} has a step; only run.log takes one".format(name, kind))
        description = event.get("description")
        if description is None:
            description = ""
        if not isinstance(description, str) or len(description) > limits.max_description_chars:
            raise _Refused("metric {!r} has a description that is not a string of at most {:,} characters"
                           .format(name, limits.max_description_chars))
        if "value" not in event:
            raise _Refused("metric {!r} has no value".format(name))
        value = event["value"]
        _check_value(name, kind, value, limits)
        if self.state.metrics >= limits.max_metrics:
            self._over_cap("metrics", "The job logged more than {:,} metric values; later ones were ignored."
                           .format(limits.max_metrics))
        self.state.metrics += 1
        self._out["metrics"].append({"name": name, "type": kind, "value": value, "step": step,
                                     "description": description, "time": when})

    def _tag(self, event):
        key = _name(event, "key", self.limits.max_name_chars)
        value = event.get("value")
        if value is not None and (not isinstance(value, str) or len(value) > self.limits.max_tag_value_chars):
            raise _Refused("tag {!r} has value {}, not a string of at most {:,} characters or null"
                           .format(key, shown(value, 40), self.limits.max_tag_value_chars))
        if key not in self._tag_keys:
            if len(self._tag_keys) >= self.limits.max_tags:
                self._over_cap("tags", "The job set more than {:,} tags; later new tags were ignored."
                               .format(self.limits.max_tags))
            self._tag_keys.add(key)
        self._out["tags"][key] = value

    def _upload(self, event):
        limits, state = self.limits, self.state
        raw = event.get("name")
        try:
            name = paths.run_file_name(raw, "upload name")
        except RuleViolation as error:
            raise _Refused("upload name {}: {}".format(shown(raw, 80), error.rule))
        if name.startswith(RESERVED_RUN_FILE_PREFIXES):
            raise _Refused("upload {!r} would replace a file amlocal writes ({})"
                           .format(name, ", ".join(RESERVED_RUN_FILE_PREFIXES)))
        path = event.get("path", UPLOADS_DIR + "/" + name)
        if not isinstance(path, str) or path.replace("\\", "/") != UPLOADS_DIR + "/" + name:
            raise _Refused("upload {!r} gives path {}; an upload's file is {}/<name>"
                           .format(name, shown(path, 80), UPLOADS_DIR))
        if state.uploads >= limits.max_uploads:
            self._over_cap("uploads", "The job uploaded more than {:,} files; later uploads were ignored."
                           .format(limits.max_uploads))
        source = UPLOADS_DIR + "/" + name
        try:
            fd = paths.open_file_under(self.control_dir, source, "uploaded file")
        except RuleViolation as error:
            raise _Refused("upload {!r}: {}".format(name, error.rule))
        except OSError as error:
            raise _Refused("upload {!r}: {}/{} cannot be read ({})"
                           .format(name, UPLOADS_DIR, name, error.strerror or error))
        try:
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if size > limits.max_upload_bytes:
            raise _Refused("upload {!r} has {:,} bytes, over the {:,} allowed for one file"
                           .format(name, size, limits.max_upload_bytes))
        if state.upload_bytes + size > limits.max_upload_total_bytes:
            self._over_cap("upload-bytes", "The job's uploads exceed {:,} bytes in all; later uploads were "
                           "ignored.".format(limits.max_upload_total_bytes))
        state.uploads += 1
        state.upload_bytes += size
        self._out["uploads"].append(UploadToCopy(name, str(self.control_dir), source, size))

    def _status(self, event):
        status = event.get("status")
        if status not in STATUSES:
            raise _Refused("status {} is not one of {}".format(shown(status, 40), ", ".join(STATUSES)))
        error, code = event.get("error"), event.get("error_code")
        if error is not None and not isinstance(error, str):
            raise _Refused("status error {} is not a string or null".format(shown(error, 40)))
        if code is not None and (not isinstance(code, str) or len(code) > self.limits.max_name_chars):
            raise _Refused("status error_code {} is not a string of at most {} characters or null"
                           .format(shown(code, 40), self.limits.max_name_chars))
        if error is not None and len(error) > self.limits.max_error_chars:
            error = error[:self.limits.max_error_chars] + " ... (cut at {:,} characters)".format(
                self.limits.max_error_chars)
        self._out["statuses"].append(StatusNote(status, error, code))


def _name(event, key, max_chars):
    value = event.get(key)
    if not isinstance(value, str) or not value or len(value) > max_chars or _CONTROL_CHARACTER.search(value):
        raise _Refused("{} {} is not a string of 1 to {} characters without control characters"
                       .format(key, shown(value, 60), max_chars))
    return value


def _time(event):
    value = event.get("time")
    if type(value) not in (int, float) or not math.isfinite(value) or value < 0:
        raise _Refused("time {} is not a finite number of seconds".format(shown(value, 40)))
    return float(value)


def _depth_and_check_keys(value, max_depth, max_name_chars):
    """Nesting depth of a JSON value; dict keys must be strings of at most max_name_chars."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > max_depth:
                return depth
            deepest = max(deepest, depth)
            if isinstance(item, dict):
                for key in item:
                    if len(key) > max_name_chars:
                        raise _Refused("a column name is longer than {} characters".format(max_name_chars))
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)
    return deepest


def _check_value(name, kind, value, limits):
    def refuse(what):
        raise _Refused("metric {!r} of type {} has {} value {}".format(name, kind, what, shown(value, 60)))

    if kind == "scalar":
        if not isinstance(value, _SCALARS):
            refuse("a non-scalar")
    elif kind == "list":
        if not isinstance(value, list):
            refuse("a non-list")
    elif kind == "row":
        if not isinstance(value, dict):
            refuse("a non-dict")
    elif kind == "table":
        if not isinstance(value, dict) or not all(isinstance(column, list) for column in value.values()):
            refuse("a value that is not a dict of column lists:")
    elif kind == "image":
        if not isinstance(value, dict) or set(value) != {"artifact"}:
            refuse('a value that is not {"artifact": <upload name>}:')
        try:
            value["artifact"] = paths.run_file_name(value["artifact"], "image artifact")
        except RuleViolation as error:
            refuse("an artifact name that breaks the run file name rule ({}):".format(error.rule))
    elif kind == "confusion_matrix":
        if not isinstance(value, (str, dict, list)):
            refuse("a value that is not a JSON string, dict or list:")
    if _depth_and_check_keys(value, limits.max_value_depth, limits.max_name_chars) > limits.max_value_depth:
        refuse("a value nested deeper than {} levels:".format(limits.max_value_depth))
    size = len(json.dumps(value, allow_nan=True, separators=(",", ":")))
    if size > limits.max_value_bytes:
        raise _Refused("metric {!r} has a value of {:,} bytes as JSON, over the {:,} allowed"
                       .format(name, size, limits.max_value_bytes))


def copy_uploads(uploads, files_root, limits=None):
    """Copy each ``UploadToCopy`` into the run's files (``files_root/name``), opening the source
    again without following links; returns warning lines for those that could not be copied
    (swapped for a link, gone, grown past the cap). Never raises for what the job did."""
    limits = limits or EventLimits()
    warnings = []
    for upload in uploads:
        try:
            paths.copy_file_under(upload.source_root, upload.source, files_root, upload.name,
                                  max_bytes=limits.max_upload_bytes)
        except RuleViolation as error:
            warnings.append(_one_line("upload {!r} was not copied: {}".format(upload.name, error.rule)))
        except (FileNotFoundError, PermissionError, NotADirectoryError, IsADirectoryError) as error:
            warnings.append(_one_line("upload {!r} was not copied: {}".format(upload.name, error.strerror)))
    return warnings
