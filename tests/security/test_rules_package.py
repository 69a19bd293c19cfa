"""amlocal.rules is copied into training jobs: it must import there without amlocal, on Python 3.8."""

import ast
import pathlib
import shutil
import subprocess
import sys

import amlocal.rules

RULES_DIR = pathlib.Path(amlocal.rules.__file__).parent
STDLIB = set(getattr(sys, "stdlib_module_names", ())) or {
    "collections", "errno", "fcntl", "os", "pathlib", "re", "stat", "time"}


def _modules():
    return sorted(RULES_DIR.glob("*.py"))


def test_every_module_parses_as_python_3_8_and_imports_only_stdlib_or_its_own_modules():
    for path in _modules():
        tree = ast.parse(path.read_text(), filename=str(path), feature_version=(3, 8))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 1 or node.module.split(".")[0] in STDLIB, (path.name, node.module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] in STDLIB, (path.name, alias.name)


def test_the_package_works_as_a_copy_without_amlocal(tmp_path):
    shutil.copytree(RULES_DIR, tmp_path / "jobrules", ignore=shutil.ignore_patterns("__pycache__"))
    script = (
        "import sys\nsys.path.insert(0, '.')\n"
        "from jobrules import names, paths, errors\n"
        "assert 'amlocal' not in sys.modules\n"
        "try:\n"
        "    names.validate_experiment_name('../../x')\n"
        "except errors.InvalidName as e:\n"
        "    assert type(e) is errors.InvalidName and isinstance(e, ValueError)\n"
        "else:\n"
        "    raise SystemExit('not refused')\n"
        "print(paths.run_file_name('a\\\\b/./c.txt'))\n")
    result = subprocess.run([sys.executable, "-I", "-c", script], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "a/b/c.txt"
