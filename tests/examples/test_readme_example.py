"""The README's example of testing a training script in CI with the ``amlocal_workspace``
fixture (the amlocal pytest plugin), verbatim apart from where the script comes from."""

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


# --- from the README: "Test your training script in CI" -------------------------------------------
from amlocal.core import Environment, Experiment, ScriptRunConfig  # noqa: E402


def test_training_script_learns_iris(amlocal_workspace, amlocal_project):
    (amlocal_project / "src").mkdir()
    shutil.copy(REPO / "train_iris.py", amlocal_project / "src")  # your training script
    env = Environment("ci-sklearn")
    env.python.conda_dependencies.add_pip_package("scikit-learn")
    env.python.conda_dependencies.add_pip_package("joblib")
    config = ScriptRunConfig(source_directory="src", script="train_iris.py",
                             arguments=["--kernel", "linear", "--penalty", 1.0], environment=env)

    run = Experiment(amlocal_workspace, "ci").submit(config)
    run.wait_for_completion(show_output=True)

    assert run.get_metrics()["Accuracy"] > 0.9
    assert "outputs/model.joblib" in run.get_file_names()
# --- end of the README example ------------------------------------------------------------------------


def test_the_readme_shows_this_very_code():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Test your training script in CI", 1)[1]
    shown = section.split("```python\n", 1)[1].split("```", 1)[0]
    source = Path(__file__).read_text()
    tested = source.split("# --- from the README", 1)[1].split("\n", 1)[1].split("# --- end of the README", 1)[0]
    assert shown.strip() == tested.replace("  # noqa: E402", "").strip()
