"""Threat: a job writes its event stream (``$AMLOCAL_RUN_CONTROL/events.jsonl``) by hand to make
the host write or read files outside the run, or to crash the run.

Everything in the stream is untrusted: a bad event becomes a warning in the run's
``azureml-logs/60_control_log.txt`` and nothing else; the run still ends by its exit code.
"""

import os

import pytest

from job_helpers import contains_anywhere, control_log, finish, host_secret, submit

pytestmark = pytest.mark.docker

HOSTILE_EVENTS = r'''
import json, os, sys, time

control = os.environ["AMLOCAL_RUN_CONTROL"]
uploads = os.path.join(control, "uploads")
os.makedirs(uploads, exist_ok=True)
mark, secret = sys.argv[1], sys.argv[2]

def emit(event):
    line = event if isinstance(event, bytes) else (json.dumps(event) + "\n").encode()
    with open(os.path.join(control, "events.jsonl"), "ab") as out:
        out.write(line)

now = time.time()
for name in ("../../../../" + mark, "../../../../../../../../../../../../tmp/" + mark, "/tmp/" + mark):
    emit({"kind": "upload", "time": now, "name": name, "path": "uploads/" + name})
emit({"kind": "upload", "time": now, "name": "passwd.txt", "path": "/etc/passwd"})
emit({"kind": "upload", "time": now, "name": "secret.txt", "path": secret})
os.symlink("/etc/passwd", os.path.join(uploads, "linked-passwd.txt"))
emit({"kind": "upload", "time": now, "name": "linked-passwd.txt", "path": "uploads/linked-passwd.txt"})
os.symlink(secret, os.path.join(uploads, "linked-secret.txt"))
emit({"kind": "upload", "time": now, "name": "linked-secret.txt", "path": "uploads/linked-secret.txt"})
os.symlink(os.path.dirname(secret), os.path.join(uploads, "hostdir"))
emit({"kind": "upload", "time": now, "name": "hostdir/" + os.path.basename(secret),
      "path": "uploads/hostdir/" + os.path.basename(secret)})
emit({"kind": "metric"})
emit({"kind": "upload"})
emit({"kind": "tag", "time": now})
emit(b"this is not json\n")
emit(b'{"kind": "tag", "time": 1, "key": "huge", "value": "' + b"x" * (50 << 20) + b'"}\n')
with open(os.path.join(control, "events.jsonl"), "ab") as out:
    out.write(b"".join((json.dumps({"kind": "tag", "time": now, "key": "t%d" % i, "value": "v"}) + "\n").encode()
                       for i in range(12000)))
with open(os.path.join(uploads, "fine.txt"), "w") as out:
    out.write("a fine upload")
emit({"kind": "upload", "time": now, "name": "fine.txt", "path": "uploads/fine.txt"})
emit({"kind": "metric", "time": now, "name": "after_the_attack", "type": "scalar", "value": 1, "step": None,
      "description": ""})
print("hostile events written", flush=True)
'''


def test_hand_written_events_never_touch_host_files_and_the_run_completes(docker_ws, project, tmp_path):
    secret, marker = host_secret(tmp_path)
    mark = f"amlocal-hostile-{os.urandom(6).hex()}"
    run = submit(docker_ws, project, HOSTILE_EVENTS, arguments=[mark, str(secret)])

    details = finish(run, 180)

    assert details["status"] == "Completed", details.get("error")
    # nothing written outside the run: not beside AMLOCAL_HOME, not in /tmp
    assert not [p for p in tmp_path.rglob(f"*{mark}*")]
    assert not os.path.exists(f"/tmp/{mark}")
    # no host file copied into run history
    files = run.get_file_names()
    assert "fine.txt" in files
    assert not {"passwd.txt", "secret.txt", "linked-passwd.txt", "linked-secret.txt"} & set(files)
    assert not [f for f in files if f.startswith("hostdir")]
    run_dir = docker_ws.stores.layout.run_dir(run.id)
    assert contains_anywhere(run_dir / "files", marker) == []
    assert contains_anywhere(run_dir / "files", "root:x:0:0") == []
    assert secret.read_text().startswith(marker)  # the host file itself untouched
    # the events after the attack were still recorded
    assert run.get_metrics()["after_the_attack"] == 1
    tags = run.get_tags()
    assert "huge" not in tags and tags["t0"] == "v" and len([k for k in tags if k.startswith("t")]) == 10_000
    # and each refusal is a warning in the control log
    log = control_log(docker_ws, run.id)
    for expected in ("'..' part", "absolute", "/etc/passwd", "symbolic link", "name None is not a string",
                     "not a JSON object", "longer than", "more than 10,000 tags"):
        assert expected in log, f"{expected!r} not in the control log:\n{log[-4000:]}"
    assert "Warning:" in log
