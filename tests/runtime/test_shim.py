"""The in-job shim: unmodified Azure ML scripts, run in a subprocess against SHIM_DIR."""

import ast
import json
import math
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

import tempfile

from amlocal._runtime import (ENV_EXPERIMENT_NAME, ENV_RUN_CONTROL, ENV_RUN_ID, EVENTS_FILE, UPLOADS_DIR,
                              job_shim_dir, read_events)

REPO = pathlib.Path(__file__).resolve().parents[2]
IRIS_DATA = REPO / "examples" / "iris" / "data" / "iris"
# What a job gets: the assembled shim directory (the shim and the rules it shares with the host)
SHIM_DIR = job_shim_dir(tempfile.mkdtemp(prefix="amlocal-shim-test-"))
# A job's interpreter has no amlocal: the base interpreter of this virtualenv has none either
JOB_PYTHON = getattr(sys, "_base_executable", sys.executable)


def job_env(control=None, extra_path=()):
    """The environment a backend gives a job: only the shim (and extras) on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AMLOCAL_") and k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join([str(SHIM_DIR)] + [str(p) for p in extra_path])
    if control is not None:
        env[ENV_RUN_CONTROL] = str(control)
        env[ENV_RUN_ID] = "exp_1700000000_abcd1234"
        env[ENV_EXPERIMENT_NAME] = "unit-exp"
    return env


def run_job(tmp_path, code, online=True, args=(), extra_path=(), check=True, python=JOB_PYTHON):
    """Run ``code`` as a script in tmp_path/work; return (completed process, control dir)."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    script = work / "script.py"
    script.write_text(textwrap.dedent(code))
    control = tmp_path / "control" if online else None
    proc = subprocess.run([python, str(script)] + list(args), cwd=str(work),
                          env=job_env(control, extra_path), capture_output=True, text=True,
                          timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc, control


def events_of(control, kind=None):
    events, offset = read_events(control / EVENTS_FILE)
    assert offset == (control / EVENTS_FILE).stat().st_size
    for event in events:
        assert isinstance(event["time"], float)
    return [e for e in events if kind is None or e["kind"] == kind]


def strip_time(events):
    return [{k: v for k, v in e.items() if k != "time"} for e in events]


def metric(name, type_, value, step=None, description=""):
    return {"kind": "metric", "name": name, "type": type_, "value": value, "step": step,
            "description": description}


# -- context ----------------------------------------------------------------------------

def test_context_is_a_cached_online_run(tmp_path):
    proc, control = run_job(tmp_path, """
        import azureml
        from azureml.core import Run, Experiment
        from azureml.core.run import Run as Run2
        assert Run is Run2
        run = Run.get_context()
        assert Run.get_context() is run and Run.get_context(allow_offline=False) is run
        assert isinstance(run.experiment, Experiment)
        print(run.id, run.experiment.name, azureml.__file__)
    """)
    run_id, experiment, where = proc.stdout.split()
    assert (run_id, experiment) == ("exp_1700000000_abcd1234", "unit-exp")
    assert pathlib.Path(where).resolve().is_relative_to(SHIM_DIR.resolve())


def test_shim_imports_only_stdlib():
    # amlocal_rules ships with the shim; ``amlocal`` is only run.py's fallback on the host
    allowed = set(sys.stdlib_module_names) | {"azureml", "amlocal_rules"}
    # mlflow is imported inside MlflowSink.for_job only, in an Azure ML (SDK v2) job that has it
    lazy = {"_mlflow_sink.py": {"mlflow"}}
    for path in SHIM_DIR.rglob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
        if path.name == "run.py":
            imported.discard("amlocal")
        assert imported <= allowed | lazy.get(path.name, set()), (path, imported - allowed)


def test_protocol_constants_match_the_shim():
    proc = subprocess.run(
        [sys.executable, "-c", "from azureml.core import run as r; print(r.ENV_RUN_CONTROL, "
         "r.ENV_RUN_ID, r.ENV_EXPERIMENT_NAME, r.EVENTS_FILE, r.UPLOADS_DIR)"],
        env=job_env(), capture_output=True, text=True, check=True)
    assert proc.stdout.split() == [ENV_RUN_CONTROL, ENV_RUN_ID, ENV_EXPERIMENT_NAME,
                                   EVENTS_FILE, UPLOADS_DIR]


# -- metrics ----------------------------------------------------------------------------

def test_log_scalars(tmp_path):
    _, control = run_job(tmp_path, """
        from azureml.core.run import Run

        class Scalar:  # like a numpy scalar
            def __init__(self, v): self.v = v
            def item(self): return self.v

        run = Run.get_context()
        run.log("accuracy", 0.97)
        run.log("epochs", 3, description="how many")
        run.log("kernel", "rbf")
        run.log("flag", True)
        run.log("np", Scalar(0.5), step=Scalar(7))
        run.log("nan", float("nan"))
        run.log("inf", float("-inf"), step=2)
    """)
    events = strip_time(events_of(control))
    assert events[:5] == [
        metric("accuracy", "scalar", 0.97),
        metric("epochs", "scalar", 3, description="how many"),
        metric("kernel", "scalar", "rbf"),
        metric("flag", "scalar", True),
        metric("np", "scalar", 0.5, step=7),
    ]
    assert math.isnan(events[5]["value"]) and events[5]["name"] == "nan"
    assert events[6]["value"] == float("-inf") and events[6]["step"] == 2


def test_log_structured_metrics(tmp_path):
    _, control = run_job(tmp_path, """
        from azureml.core.run import Run

        class Array:  # like a numpy array
            def __init__(self, v): self.v = v
            def tolist(self): return list(self.v)

        run = Run.get_context()
        run.log_list("losses", [0.5, 0.25], description="per epoch")
        run.log_list("arr", Array([1, 2]))
        run.log_list("gen", (x * 2 for x in range(3)))
        run.log_row("Y over X", x=1, y=0.4)
        run.log_row("Y over X", description="curve", x=2, y=Array([0.8]))
        run.log_table("tbl", {"a": [1, 2], "b": Array(["x", "y"])})
        run.log_confusion_matrix("cm", {"schema_type": "confusion_matrix", "data": [[1, 0], [0, 1]]})
        run.log_confusion_matrix("cm_str", '{"data": [[2]]}')
        run.log("obj", object.__new__(type("Odd", (), {"__str__": lambda self: "odd!"})))
    """)
    assert strip_time(events_of(control)) == [
        metric("losses", "list", [0.5, 0.25], description="per epoch"),
        metric("arr", "list", [1, 2]),
        metric("gen", "list", [0, 2, 4]),
        metric("Y over X", "row", {"x": 1, "y": 0.4}),
        metric("Y over X", "row", {"x": 2, "y": [0.8]}, description="curve"),
        metric("tbl", "table", {"a": [1, 2], "b": ["x", "y"]}),
        metric("cm", "confusion_matrix", {"schema_type": "confusion_matrix",
                                          "data": [[1, 0], [0, 1]]}),
        metric("cm_str", "confusion_matrix", '{"data": [[2]]}'),
        metric("obj", "scalar", "odd!"),
    ]


def test_numpy_values(tmp_path):
    pytest.importorskip("numpy")
    _, control = run_job(tmp_path, """
        import numpy as np
        from azureml.core.run import Run
        run = Run.get_context()
        run.log("f", np.float32(0.5), step=np.int64(3))
        run.log("i", np.int64(4))
        run.log("b", np.bool_(True))
        run.log_list("a", np.arange(3))
        run.log_row("r", v=np.int32(9))
        run.log_table("t", {"c": np.array([1.5, 2.5])})
    """)
    assert strip_time(events_of(control)) == [
        metric("f", "scalar", 0.5, step=3), metric("i", "scalar", 4),
        metric("b", "scalar", True), metric("a", "list", [0, 1, 2]),
        metric("r", "row", {"v": 9}), metric("t", "table", {"c": [1.5, 2.5]}),
    ]


def test_get_metrics_aggregates_like_azureml(tmp_path):
    proc, _ = run_job(tmp_path, """
        import json
        from azureml.core.run import Run
        run = Run.get_context()
        run.log("once", 1)
        for v in (0.5, 0.4, 0.3):
            run.log("loss", v)
        run.log_list("l", [1, 2])
        run.log_row("r", x=1, y=2)
        run.log_row("r", x=2, y=4)
        run.log_table("t", {"a": [1], "b": [2]})
        print(json.dumps(run.get_metrics()))
        print(json.dumps(run.get_metrics(name="loss")))
    """)
    everything, loss = [json.loads(line) for line in proc.stdout.splitlines()]
    # azureml's metrics v2: a table of one row is a dict of values
    assert everything == {"once": 1, "loss": [0.5, 0.4, 0.3], "l": [1, 2],
                          "r": {"x": [1, 2], "y": [2, 4]}, "t": {"a": 1, "b": 2}}
    assert loss == {"loss": [0.5, 0.4, 0.3]}


# -- tags -------------------------------------------------------------------------------

def test_tags(tmp_path):
    proc, control = run_job(tmp_path, """
        import json
        from azureml.core.run import Run
        run = Run.get_context()
        run.tag("solo")
        run.tag("lr", 0.01)
        run.set_tags({"a": "x", "b": None, "n": 3})
        print(json.dumps(run.get_tags()))
    """)
    assert strip_time(events_of(control)) == [
        {"kind": "tag", "key": "solo", "value": None},
        {"kind": "tag", "key": "lr", "value": "0.01"},
        {"kind": "tag", "key": "a", "value": "x"},
        {"kind": "tag", "key": "b", "value": None},
        {"kind": "tag", "key": "n", "value": "3"},
    ]
    assert json.loads(proc.stdout) == {"solo": None, "lr": "0.01", "a": "x", "b": None, "n": "3"}


# -- files ------------------------------------------------------------------------------

def test_uploads(tmp_path):
    _, control = run_job(tmp_path, """
        import io, os
        from azureml.core.run import Run
        run = Run.get_context()
        with open("local.txt", "w") as f:
            f.write("from a path")
        run.upload_file("notes/a.txt", "local.txt")
        run.upload_file("b.bin", io.BytesIO(b"\\x00\\x01binary"))
        run.upload_file("c.txt", io.StringIO("text stream"))
        with open("local.txt", "rb") as f:
            run.upload_file("d.txt", f, datastore_name="ignored")
        assert run.upload_files(["m/1.txt", "m/2.txt"], ["local.txt", "local.txt"],
                                return_artifacts=True) == ["m/1.txt", "m/2.txt"]
        os.makedirs("folder/sub")
        with open("folder/top.txt", "w") as f:
            f.write("top")
        with open("folder/sub/deep.txt", "w") as f:
            f.write("deep")
        run.upload_folder("outputs/folder", "folder")
        for bad in ("../escape.txt", "/abs.txt", "a/../../b", ""):
            try:
                run.upload_file(bad, "local.txt")
            except ValueError:
                pass
            else:
                raise AssertionError("accepted " + bad)
    """)
    uploads = strip_time(events_of(control, "upload"))
    names = ["notes/a.txt", "b.bin", "c.txt", "d.txt", "m/1.txt", "m/2.txt",
             "outputs/folder/top.txt", "outputs/folder/sub/deep.txt"]
    assert uploads == [{"kind": "upload", "name": n, "path": "uploads/" + n} for n in names]
    stored = {n: (control / "uploads" / n).read_bytes() for n in names}
    assert stored["notes/a.txt"] == b"from a path" == stored["d.txt"] == stored["m/2.txt"]
    assert stored["b.bin"] == b"\x00\x01binary"
    assert stored["c.txt"] == b"text stream"
    assert stored["outputs/folder/sub/deep.txt"] == b"deep"
    assert not (tmp_path / "escape.txt").exists() and not (control / "escape.txt").exists()
    assert list((control / ".partial").iterdir()) == []


def test_log_image_from_path_and_plot(tmp_path):
    _, control = run_job(tmp_path, """
        from azureml.core.run import Run

        class Plot:  # quacks like matplotlib.pyplot
            def savefig(self, buffer, format=None):
                assert format == "png"
                buffer.write(b"\\x89PNG fake")

        run = Run.get_context()
        with open("pic.png", "wb") as f:
            f.write(b"\\x89PNG file")
        run.log_image("roc", path="pic.png", description="ROC")
        run.log_image("roc", plot=Plot())
        run.log_image("roc", plot=Plot())
        for bad in ({}, {"path": "pic.png", "plot": Plot()}):
            try:
                run.log_image("x", **bad)
            except ValueError:
                pass
            else:
                raise AssertionError(bad)
    """)
    events = strip_time(events_of(control))
    assert [e["kind"] for e in events] == ["upload", "metric"] * 3
    artifacts = []
    for upload, image in zip(events[::2], events[1::2]):
        assert upload["name"].startswith("roc_") and upload["name"].endswith(".png")
        assert int(upload["name"][len("roc_"):-len(".png")]) > 1_600_000_000_000
        assert image["type"] == "image" and image["name"] == "roc" and image["step"] is None
        assert image["value"] == {"artifact": upload["name"]}
        artifacts.append(upload["name"])
    assert len(set(artifacts)) == 3
    assert events[1]["description"] == "ROC"
    assert (control / "uploads" / artifacts[0]).read_bytes() == b"\x89PNG file"
    assert (control / "uploads" / artifacts[1]).read_bytes() == b"\x89PNG fake"


def test_log_image_with_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    _, control = run_job(tmp_path, python=sys.executable, code="""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from azureml.core.run import Run
        plt.plot([1, 2, 3])
        Run.get_context().log_image("curve", plot=plt)
    """)
    upload = events_of(control, "upload")[0]
    assert (control / upload["path"]).read_bytes().startswith(b"\x89PNG")


# -- status -----------------------------------------------------------------------------

def test_complete_fail_and_context_manager(tmp_path):
    proc, control = run_job(tmp_path, """
        from azureml.core.run import Run
        run = Run.get_context()
        run.flush()
        run.complete()
        run.complete(_set_status=False)
        run.fail(error_details=ValueError("bad data"), error_code="UserError")
        with Run.get_context(used_for_context_manager=True) as r:
            r.log("inside", 1)
        with Run.get_context() as r:
            raise KeyError("boom")
    """, check=False)
    assert proc.returncode != 0 and "KeyError" in proc.stderr
    statuses = strip_time(events_of(control, "status"))
    assert statuses == [
        {"kind": "status", "status": "Completed", "error": None, "error_code": None},
        {"kind": "status", "status": "Failed", "error": "ValueError: bad data",
         "error_code": "UserError"},
        {"kind": "status", "status": "Completed", "error": None, "error_code": None},
        {"kind": "status", "status": "Failed", "error": "KeyError: 'boom'", "error_code": None},
    ]


# -- concurrency ------------------------------------------------------------------------

def test_concurrent_writers_leave_only_complete_lines(tmp_path):
    control = tmp_path / "control"
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent("""
        import sys, threading
        from azureml.core.run import Run
        run = Run.get_context()
        me = sys.argv[1]
        big = "x" * 20000  # lines far larger than a pipe buffer
        def work(t):
            for i in range(100):
                run.log_row("rows", description=big, proc=me, thread=t, i=i)
        threads = [threading.Thread(target=work, args=(t,)) for t in range(3)]
        for th in threads: th.start()
        for th in threads: th.join()
    """))
    procs = [subprocess.Popen([sys.executable, str(script), str(n)], env=job_env(control),
                              cwd=str(tmp_path)) for n in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 4
    raw = (control / EVENTS_FILE).read_bytes()
    lines = raw.split(b"\n")
    assert lines[-1] == b""
    rows = [json.loads(line) for line in lines[:-1]]
    assert len(rows) == 4 * 3 * 100
    seen = {(r["value"]["proc"], r["value"]["thread"], r["value"]["i"]) for r in rows}
    assert len(seen) == 1200
    assert all(len(r["description"]) == 20000 for r in rows)


# -- offline ----------------------------------------------------------------------------

def test_offline_run_prints_and_ignores(tmp_path):
    proc, _ = run_job(tmp_path, """
        import io, json
        from azureml.core.run import Run
        run = Run.get_context()
        assert run.id.startswith("OfflineRun_"), run.id
        run.log("accuracy", 0.97)
        run.log_list("l", [1, 2])
        run.log_row("r", x=1)
        run.log_table("t", {"a": [1]})
        run.log_image("img", path="nowhere.png")
        run.upload_file("a.txt", io.BytesIO(b"x"))
        run.upload_file("b.txt", "does-not-exist.txt")
        run.tag("k", "v")
        run.complete()
        print(json.dumps(run.get_tags()))
    """, online=False)
    out = proc.stdout
    assert "Attempted to log scalar metric accuracy:\n0.97\n" in out
    for kind in ("list", "row", "table", "image"):
        assert "Attempted to log {} metric".format(kind) in out
    assert out.splitlines()[-1] == '{"k": "v"}'
    assert not (tmp_path / "control").exists()
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["script.py"]


def test_offline_refused_when_not_allowed(tmp_path):
    proc, _ = run_job(tmp_path, """
        from azureml.core.run import Run
        Run.get_context(allow_offline=False)
    """, online=False, check=False)
    assert proc.returncode != 0
    assert "RuntimeError" in proc.stderr and "allow_offline=False" in proc.stderr


# -- the real SDK alongside -------------------------------------------------------------

def test_real_sdk_subpackages_stay_importable(tmp_path):
    fake = tmp_path / "site"
    (fake / "azureml" / "core").mkdir(parents=True)
    (fake / "azureml" / "train").mkdir()
    (fake / "azureml" / "__init__.py").write_text("")
    (fake / "azureml" / "core" / "__init__.py").write_text("raise ImportError('real core')")
    (fake / "azureml" / "core" / "conda_dependencies.py").write_text("class CondaDependencies: pass")
    (fake / "azureml" / "train" / "__init__.py").write_text("REAL = True")
    proc, _ = run_job(tmp_path, """
        from azureml.core import Run
        from azureml.core.conda_dependencies import CondaDependencies
        import azureml.train
        print(azureml.train.REAL, Run.__module__)
    """, extra_path=[fake])
    assert proc.stdout.split() == ["True", "azureml.core.run"]


# -- read_events ------------------------------------------------------------------------

def test_read_events_tails_complete_lines_only(tmp_path):
    path = tmp_path / "events.jsonl"
    assert read_events(path) == ([], 0)
    assert read_events(path, 17) == ([], 17)
    first = b'{"kind": "tag", "key": "a", "value": null, "time": 1.0}\n'
    partial = b'{"kind": "metric", "name": "x", "val'
    path.write_bytes(first + b"\n" + partial)
    events, offset = read_events(path)
    assert events == [{"kind": "tag", "key": "a", "value": None, "time": 1.0}]
    assert offset == len(first) + 1
    assert read_events(path, offset) == ([], offset)
    with open(path, "ab") as f:
        f.write(b'ue": NaN, "time": 2.0}\n{"kind": "tag"')
    events, offset2 = read_events(path, offset)
    assert len(events) == 1 and events[0]["name"] == "x" and math.isnan(events[0]["value"])
    assert offset2 == path.stat().st_size - len(b'{"kind": "tag"')
    with open(path, "ab") as f:
        f.write(b'}\nnot json\n[1]\n')
    events, offset3 = read_events(path, offset2)
    assert events == [{"kind": "tag"}] and offset3 == path.stat().st_size


# -- the iris example -------------------------------------------------------------------

def test_iris_csv_is_the_iris_data():
    lines = (IRIS_DATA / "iris.csv").read_text().splitlines()
    assert lines[0] == "sepal_length,sepal_width,petal_length,petal_width,species"
    assert len(lines) == 151
    species = [line.split(",")[4] for line in lines[1:]]
    assert [species.count(s) for s in ("setosa", "versicolor", "virginica")] == [50, 50, 50]
    assert lines[1] == "5.1,3.5,1.4,0.2,setosa"


@pytest.mark.parametrize("args", [[], ["--kernel", "rbf", "--penalty", "0.5",
                                       "--data-folder", str(IRIS_DATA)]])
def test_train_iris_runs_unmodified(tmp_path, args):
    for module in ("sklearn", "joblib"):
        pytest.importorskip(module, reason="train_iris.py needs scikit-learn and joblib")
    work = tmp_path / "work"
    work.mkdir()
    control = tmp_path / "control"
    proc = subprocess.run([sys.executable, str(REPO / "train_iris.py")] + args, cwd=str(work),
                          env=job_env(control), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Accuracy of SVM classifier on test set:" in proc.stdout
    assert (work / "outputs" / "model.joblib").stat().st_size > 0
    metrics = {e["name"]: e for e in events_of(control, "metric")}
    assert metrics["Kernel type"]["value"] == (args[1] if args else "linear")
    assert metrics["Penalty"]["value"] == (0.5 if args else 1.0)
    accuracy = metrics["Accuracy"]
    assert accuracy["type"] == "scalar" and 0.9 <= accuracy["value"] <= 1.0
