"""The bytecode store: compiled once from wheels on the host, copied into environments, and
never trusted over a file's own source."""

import base64
import hashlib
import subprocess
import sys
import venv
import zipfile

from amlocal.local import BYTECODE_SCRIPT


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def make_wheel(directory, source):
    files = {"greet/__init__.py": source.encode(), "greet/more.py": b"X = 2\n",
             "greet-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: greet\nVersion: 1.0\n",
             "greet-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                          b"Tag: py3-none-any\n"}
    record = "\n".join(record_line(name, data) for name, data in files.items()) + "\ngreet-1.0.dist-info/RECORD,,\n"
    wheel = directory / "greet-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("greet-1.0.dist-info/RECORD", record)
    return wheel


def run(*command):
    ran = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return ran.stdout


def installed_env(tmp_path, wheel):
    env = tmp_path / "env"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--no-compile", "--no-deps",
        "--disable-pip-version-check", wheel)
    return python


def test_restore_copies_hash_checked_bytecode_the_interpreter_then_uses(tmp_path):
    wheel = make_wheel(tmp_path, "GREETING = 'hello'\n")
    store = tmp_path / "store"
    assert "compiled 2 files of 1 wheels" in run(sys.executable, BYTECODE_SCRIPT, "compile", "--store", store, wheel)
    assert "holds the bytecode of all 1 wheels" in run(sys.executable, BYTECODE_SCRIPT, "compile", "--store", store,
                                                        wheel)
    python = installed_env(tmp_path, wheel)
    assert "2 files, 2 from the bytecode store, 0 compiled" in run(python, "-I", "-B", BYTECODE_SCRIPT, "restore",
                                                                   "--store", store)
    verbose = subprocess.run([str(python), "-v", "-c", "import greet; print(greet.GREETING)"], capture_output=True,
                             text=True)
    assert verbose.stdout.strip() == "hello"
    assert "greet/__pycache__/__init__.cpython" in verbose.stderr and "matches" in verbose.stderr
    pyc = next((python.parent.parent / "lib").glob("python3*/site-packages/greet/__pycache__/__init__.*.pyc"))
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b11  # PEP 552: hash-based, checked


def test_bytecode_that_does_not_match_its_source_is_ignored(tmp_path):
    """A store entry under the key of one source but holding another's bytecode (a lying RECORD,
    a tampered store) must not change what the program does."""
    honest = make_wheel(tmp_path, "GREETING = 'hello'\n")
    store = tmp_path / "store"
    run(sys.executable, BYTECODE_SCRIPT, "compile", "--store", store, honest)
    python = installed_env(tmp_path, honest)
    other = tmp_path / "other"
    other.mkdir()
    run(sys.executable, BYTECODE_SCRIPT, "compile", "--store", store, make_wheel(other, "GREETING = 'pwned'\n"))
    # swap the two entries' contents: the honest source's key now holds the other bytecode
    entries = {p.read_bytes(): p for p in store.rglob("*.pyc")}
    target = next(p for data, p in entries.items() if b"hello" in data)
    target.write_bytes(next(data for data in entries if b"pwned" in data))
    run(python, "-I", "-B", BYTECODE_SCRIPT, "restore", "--store", store)
    assert run(python, "-c", "import greet; print(greet.GREETING)").strip() == "hello"


def test_restore_without_a_store_compiles_everything(tmp_path):
    python = installed_env(tmp_path, make_wheel(tmp_path, "GREETING = 'hi'\n"))
    assert "2 files, 0 from the bytecode store, 2 compiled" in run(python, "-I", "-B", BYTECODE_SCRIPT, "restore")


def test_a_bundle_puts_each_pyc_where_the_wheel_installs_its_source(tmp_path):
    from amlocal._local import bytecode

    wheel = make_wheel(tmp_path, "GREETING = 'bundled'\n")
    store = tmp_path / "store"
    run(sys.executable, BYTECODE_SCRIPT, "compile", "--store", store, wheel)
    bundle = tmp_path / "bundle.tar"
    bytecode.bundle(str(store), [str(wheel)], str(bundle))
    python = installed_env(tmp_path, wheel)
    site = next((python.parent.parent / "lib").glob("python3*/site-packages"))
    run("tar", "-x", "-f", bundle, "-C", site)
    verbose = subprocess.run([str(python), "-v", "-c", "import greet.more; print(greet.more.X)"], capture_output=True,
                             text=True)
    assert verbose.stdout.strip() == "2" and verbose.stderr.count(" matches ") >= 2
