"""The packages whose names load on first use (``amlocal._lazy``): each name is the submodule's
own object, listed by dir(), and an unknown one is an AttributeError naming it. Each check runs
in a fresh interpreter, so what other tests imported cannot hide a name that fails to load."""

import json
import subprocess
import sys
import textwrap

import pytest

PACKAGES = {
    "amlocal.core": ("Workspace", ".workspace"),
    "amlocal.train.hyperdrive": ("BanditPolicy", ".policy"),
}


def run_python(code):
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_a_name_loads_its_submodule_on_first_use_only(package):
    name, submodule = PACKAGES[package]
    out = run_python(f"""
        import importlib, json, sys
        package = importlib.import_module({package!r})
        before = {package + submodule!r} in sys.modules
        value = getattr(package, {name!r})
        module = sys.modules[{package + submodule!r}]
        print(json.dumps({{"before": before, "same": value is getattr(module, {name!r}),
                           "kept": {name!r} in vars(package), "listed": {name!r} in dir(package),
                           "all": {name!r} in package.__all__}}))
    """)
    assert out == {"before": False, "same": True, "kept": True, "listed": True, "all": True}


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_an_unknown_name_is_an_attribute_error_naming_it(package):
    out = run_python(f"""
        import importlib, json
        package = importlib.import_module({package!r})
        try:
            package.NoSuchThing
        except AttributeError as err:
            print(json.dumps(str(err)))
        else:
            print(json.dumps("no error"))
    """)
    assert out == f"module {package!r} has no attribute 'NoSuchThing'"


def test_every_exported_name_loads():
    for package in PACKAGES:
        out = run_python(f"""
            import importlib, json
            package = importlib.import_module({package!r})
            print(json.dumps([name for name in package.__all__ if getattr(package, name, None) is None]))
        """)
        assert out == [], f"{package} exports names that do not load: {out}"
