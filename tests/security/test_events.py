"""A hostile or broken job's event stream: nothing it writes is acted on unless valid, and nothing raises."""

import json
import os

import pytest

from amlocal._local.events import EventLimits, EventReader, IngestState, StatusNote, copy_uploads


class Job:
    """Writes a control directory the way a (possibly hostile) job would."""

    def __init__(self, control):
        self.control = control
        (control / "uploads").mkdir(parents=True)
        self.events = control / "events.jsonl"

    def raw(self, data):
        with open(self.events, "ab") as f:
            f.write(data)

    def emit(self, **event):
        event.setdefault("time", 1_700_000_000.5)
        self.raw((json.dumps(event) + "\n").encode())

    def upload(self, name, content=b"data"):
        path = self.control / "uploads" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        self.emit(kind="upload", name=name, path="uploads/" + name)


@pytest.fixture
def job(tmp_path):
    return Job(tmp_path / "control")


@pytest.fixture
def host_secret(tmp_path):
    secret = tmp_path / "host" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0")
    return secret


def read_all(reader, final=True, max_calls=10_000):
    batches = []
    for _ in range(max_calls):
        batch = reader.read(final=final)
        batches.append(batch)
        if not batch.more:
            return batches
    raise AssertionError("read() still says more after {} calls".format(max_calls))


def test_valid_events_of_every_kind_come_out_as_plain_results(job):
    job.emit(kind="metric", name="accuracy", type="scalar", value=0.97, step=3, description="acc")
    job.emit(kind="metric", name="loss", type="scalar", value=float("nan"), step=None, description="")
    job.emit(kind="metric", name="curve", type="list", value=[1, 2.5, None], step=None, description="")
    job.emit(kind="metric", name="row", type="row", value={"a": 1, "b": "x"}, step=None, description=None)
    job.emit(kind="metric", name="t", type="table", value={"a": [1, 2]}, step=None, description="")
    job.emit(kind="metric", name="cm", type="confusion_matrix", value='{"data": []}', step=None, description="")
    job.emit(kind="tag", key="team", value="vision")
    job.emit(kind="tag", key="flag", value=None)
    job.upload("outputs/plot.png", b"PNG")
    job.emit(kind="metric", name="plot", type="image", value={"artifact": "outputs/plot.png"}, step=None,
             description="")
    job.emit(kind="status", status="Failed", error="Traceback\nValueError: x", error_code="UserError")
    batch = EventReader(job.control).read()
    assert batch.warnings == ()
    assert [m["name"] for m in batch.metrics] == ["accuracy", "loss", "curve", "row", "t", "cm", "plot"]
    assert batch.metrics[0] == {"name": "accuracy", "type": "scalar", "value": 0.97, "step": 3,
                                "description": "acc", "time": 1_700_000_000.5}
    assert batch.tags == {"team": "vision", "flag": None}
    assert [(u.name, u.size) for u in batch.uploads] == [("outputs/plot.png", 3)]
    assert batch.statuses == (StatusNote("Failed", "Traceback\nValueError: x", "UserError"),)
    assert "\n" not in batch.statuses[0].line()


@pytest.mark.parametrize("name", ["../../../../tmp/x", "/etc/passwd", "a/../../b", "x\0y", "C:\\x", "",
                                  "azureml-logs/70_driver_log.txt", 42, None, "a" * 2000])
def test_upload_names_that_break_the_rule_are_refused(job, name):
    job.emit(kind="upload", name=name, path="uploads/x")
    batch = EventReader(job.control).read()
    assert batch.uploads == () and len(batch.warnings) == 1
    assert "ignored" in batch.warnings[0]


def test_an_upload_whose_path_points_at_a_host_file_is_refused(job, host_secret):
    (job.control / "uploads" / "model.pkl").write_bytes(b"fine")
    job.emit(kind="upload", name="model.pkl", path=str(host_secret))
    job.emit(kind="upload", name="model.pkl", path="uploads/../../../" + str(host_secret))
    batch = EventReader(job.control).read()
    assert batch.uploads == () and len(batch.warnings) == 2


def test_an_uploaded_file_that_is_a_link_out_or_a_fifo_is_refused(job, host_secret):
    (job.control / "uploads" / "model.pkl").symlink_to(host_secret)
    (job.control / "uploads" / "sub").symlink_to(host_secret.parent)
    os.mkfifo(job.control / "uploads" / "pipe")
    for name in ["model.pkl", "sub/passwd", "pipe", "missing"]:
        job.emit(kind="upload", name=name, path="uploads/" + name)
    batch = EventReader(job.control).read()
    assert batch.uploads == ()
    assert len(batch.warnings) == 4
    assert "symbolic link" in batch.warnings[0] and "symbolic link" in batch.warnings[1]


def test_a_linked_uploads_directory_is_never_followed(tmp_path, host_secret):
    control = tmp_path / "control"
    control.mkdir()
    (control / "uploads").symlink_to(host_secret.parent)
    (control / "events.jsonl").write_text(json.dumps(
        {"kind": "upload", "name": "passwd", "path": "uploads/passwd", "time": 1.0}) + "\n")
    batch = EventReader(control).read()
    assert batch.uploads == () and "symbolic link" in batch.warnings[0]


def test_an_events_file_that_is_a_link_is_not_read(tmp_path):
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_text(json.dumps({"kind": "tag", "key": "k", "value": "v", "time": 1.0}) + "\n")
    control = tmp_path / "control"
    control.mkdir()
    (control / "events.jsonl").symlink_to(elsewhere)
    batch = EventReader(control).read()
    assert batch.tags == {} and len(batch.warnings) == 1


@pytest.mark.parametrize("line", [
    b"not json", b"\xff\xfe\xfd", b"[1, 2]", b'"text"', b"null", b"{}",
    b'{"kind": "tag"}', b'{"kind": "upload"}', b'{"kind": "metric"}', b'{"kind": "status"}',
    b'{"kind": "nope", "time": 1}', b'{"kind": ["metric"], "time": 1}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"kind": "metric", "name": "m", "type": "scalar", "value": 1, "step": null, "time": NaN}',
    b'{"kind": "metric", "name": "m", "type": "scalar", "value": 1, "step": null, "time": "now"}',
    b'{"kind": "metric", "name": "m", "type": "scalar", "value": 1, "step": 1.5, "time": 1}',
    b'{"kind": "metric", "name": "m", "type": "scalar", "value": 1, "step": true, "time": 1}',
    b'{"kind": "metric", "name": "m", "type": "scalar", "value": 1, "step": 99999999999999999999, "time": 1}',
    b'{"kind": "metric", "name": "m", "type": "list", "value": [1], "step": 2, "time": 1}',
    b'{"kind": "metric", "name": "m", "type": "scalar", "value": [1], "step": null, "time": 1}',
    b'{"kind": "metric", "name": "m", "type": "table", "value": {"a": 1}, "step": null, "time": 1}',
    b'{"kind": "metric", "name": "m", "type": "image", "value": {"artifact": "../../x"}, "time": 1}',
    b'{"kind": "metric", "name": "m", "type": "weird", "value": 1, "time": 1}',
    b'{"kind": "metric", "name": "", "type": "scalar", "value": 1, "time": 1}',
    b'{"kind": "metric", "name": "a\\nFAKE LOG LINE", "type": "scalar", "value": 1, "time": 1}',
    b'{"kind": "metric", "name": "m", "type": "scalar", "value": 1, "description": 5, "time": 1}',
    b'{"kind": "tag", "key": "k", "value": 5, "time": 1}',
    b'{"kind": "tag", "key": 5, "value": "v", "time": 1}',
    b'{"kind": "status", "status": "Completed; rm -rf", "time": 1}',
    b'{"kind": "status", "status": "Failed", "error": {"x": 1}, "time": 1}',
], ids=lambda line: repr(line[:60]))
def test_a_malformed_event_becomes_one_warning_and_nothing_else(job, line):
    job.raw(line + b"\n")
    job.emit(kind="tag", key="after", value="ok")   # the stream goes on after it
    batch = EventReader(job.control).read()
    assert batch.metrics == () and batch.uploads == () and batch.statuses == ()
    assert batch.tags == {"after": "ok"}
    assert len(batch.warnings) == 1
    assert "\n" not in batch.warnings[0] and len(batch.warnings[0]) < 400


def test_oversized_values_are_refused_by_the_caps(job):
    limits = EventLimits(max_value_bytes=1000, max_description_chars=10, max_tag_value_chars=10,
                         max_value_depth=5)
    job.emit(kind="metric", name="big", type="list", value=list(range(1000)), step=None, description="")
    job.emit(kind="metric", name="deep", type="list", value=[[[[[[1]]]]]], step=None, description="")
    job.emit(kind="metric", name="desc", type="scalar", value=1, step=None, description="d" * 11)
    job.emit(kind="tag", key="k", value="v" * 11)
    job.emit(kind="metric", name="n" * 256, type="scalar", value=1, step=None, description="")
    batch = EventReader(job.control, limits).read()
    assert batch.metrics == () and batch.tags == {}
    assert len(batch.warnings) == 5


def test_per_run_counts_are_capped_and_each_cap_is_reported_once(job):
    limits = EventLimits(max_metrics=3, max_tags=2, max_uploads=2, max_upload_total_bytes=10)
    for i in range(5):
        job.emit(kind="metric", name="m", type="scalar", value=i, step=None, description="")
    for key in ["a", "b", "a", "c", "d"]:
        job.emit(kind="tag", key=key, value="v")
    job.upload("one", b"12345")
    job.upload("two", b"123456")          # 11 bytes in all: over the total
    job.upload("three", b"1")
    job.upload("four", b"1")               # third upload: over the count
    reader = EventReader(job.control, limits)
    batch = reader.read()
    assert [m["value"] for m in batch.metrics] == [0, 1, 2]
    assert batch.tags == {"a": "v", "b": "v"}
    assert [u.name for u in batch.uploads] == ["one", "three"]
    assert len(batch.warnings) == 4
    job.emit(kind="metric", name="m", type="scalar", value=9, step=None, description="")
    assert reader.read().metrics == () and reader.state.metrics == 3


def test_a_line_longer_than_the_cap_is_skipped_without_being_held_even_across_reads(job):
    limits = EventLimits(max_line_bytes=1000, max_read_bytes=4096)
    job.emit(kind="tag", key="before", value="1")
    job.raw(b'{"kind": "tag", "key": "huge", "value": "' + b"x" * 50_000 + b'"}\n')
    job.emit(kind="tag", key="after", value="2")
    reader = EventReader(job.control, limits)
    batches = read_all(reader)
    assert len(batches) > 5                       # the 50 KB line took many bounded reads
    tags = {}
    for batch in batches:
        tags.update(batch.tags)
    assert tags == {"before": "1", "after": "2"}
    warnings = [w for batch in batches for w in batch.warnings]
    assert len(warnings) == 1 and "longer than 1,000 bytes" in warnings[0]
    assert reader.state.offset == job.events.stat().st_size


def test_a_line_longer_than_one_whole_read_still_ends(job):
    job.raw(b'{"kind": "tag", "key": "huge", "value": "' + b"x" * 10_000 + b'"}\n')
    job.emit(kind="tag", key="after", value="2")
    batches = read_all(EventReader(job.control, EventLimits(max_read_bytes=4096)))
    assert {k: v for b in batches for k, v in b.tags.items()} == {"after": "2"}
    assert sum(len(b.warnings) for b in batches) == 1


def test_each_read_is_bounded_and_successive_reads_get_everything_once(job):
    for i in range(2000):
        job.emit(kind="metric", name="m", type="scalar", value=i, step=None, description="")
    reader = EventReader(job.control, EventLimits(max_read_bytes=16 << 10))
    first = reader.read()
    assert first.more and 0 < len(first.metrics) < 2000
    values = [m["value"] for batch in [first] + read_all(reader) for m in batch.metrics]
    assert values == list(range(2000))


def test_the_file_cap_stops_reading_with_one_warning(job):
    for i in range(100):
        job.emit(kind="tag", key="k{}".format(i), value="v")
    reader = EventReader(job.control, EventLimits(max_file_bytes=2000))
    batches = read_all(reader)
    tags = {k for batch in batches for k in batch.tags}
    assert 0 < len(tags) < 100
    assert sum(len(batch.warnings) for batch in batches) == 1
    job.emit(kind="tag", key="late", value="v")
    assert reader.read().tags == {} and reader.read().warnings == ()


def test_warnings_are_capped_per_run_and_the_rest_counted(job):
    job.raw(b"garbage\n" * 1000)
    reader = EventReader(job.control, EventLimits(max_warnings=10))
    batch = reader.read()
    assert len(batch.warnings) == 11 and "not shown" in batch.warnings[-1]
    assert reader.state.warnings_suppressed == 990


def test_an_incomplete_last_line_waits_then_is_dropped_when_the_job_ended(job):
    job.emit(kind="tag", key="a", value="1")
    job.raw(b'{"kind": "tag", "key": "b", "va')
    reader = EventReader(job.control)
    assert reader.read().tags == {"a": "1"}
    job.raw(b'lue": "2", "time": 1}\n{"kind": "tag", "key": "c"')
    assert reader.read().tags == {"b": "2"}
    final = reader.read(final=True)
    assert final.tags == {} and "incomplete line" in final.warnings[0]


def test_state_round_trips_so_a_new_reader_goes_on_without_repeating(job):
    job.emit(kind="tag", key="a", value="1")
    job.emit(kind="metric", name="m", type="scalar", value=1, step=None, description="")
    first = EventReader(job.control)
    first.read()
    saved = json.loads(json.dumps(first.state.to_dict()))
    job.emit(kind="tag", key="b", value="2")
    second = EventReader(job.control, state=saved)
    batch = second.read()
    assert batch.tags == {"b": "2"} and batch.metrics == ()
    assert second.state.metrics == 1 and second.state.tag_keys == ["a", "b"]
    assert IngestState.from_dict({"offset": 5, "unknown": 1}).offset == 5


def test_a_shrunk_events_file_is_reported(job):
    job.emit(kind="tag", key="a", value="1")
    reader = EventReader(job.control)
    reader.read()
    job.events.write_bytes(b"")
    assert "shrank" in reader.read().warnings[0]


def test_copy_uploads_copies_into_run_files_and_refuses_a_file_swapped_for_a_link(job, tmp_path, host_secret):
    job.upload("outputs/a.txt", b"A")
    job.upload("b.txt", b"B")
    batch = EventReader(job.control).read()
    assert len(batch.uploads) == 2
    (job.control / "uploads" / "b.txt").unlink()
    (job.control / "uploads" / "b.txt").symlink_to(host_secret)   # swapped after the check
    files = tmp_path / "files"
    warnings = copy_uploads(batch.uploads, files)
    assert (files / "outputs" / "a.txt").read_bytes() == b"A"
    assert not (files / "b.txt").exists()
    assert len(warnings) == 1 and "b.txt" in warnings[0]


def test_missing_events_file_gives_an_empty_batch(tmp_path):
    batch = EventReader(tmp_path / "nowhere").read(final=True)
    assert batch.metrics == () and batch.warnings == () and not batch.more
