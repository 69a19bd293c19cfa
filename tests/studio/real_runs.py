"""Real runs for the studio's browser tests: stdlib-only scripts submitted with amlocal's
``process`` backend (a subprocess per run), as a user's notebook would submit them."""

import json
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent / "scripts"
EXPERIMENT = "studio-demo"


def make_workspace(directory, name="studio-ws"):
    """A project directory with a local config.json whose workspace lives inside it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps({
        "workspace_name": name, "subscription_id": "local", "resource_group": "local",
        "amlocal_home": str(directory / "home"), "backend": "process"}))
    return directory


def open_workspace(directory):
    from amlocal.core import Workspace

    return Workspace.from_config(path=str(Path(directory) / "config.json"), backend="process")


def submit(workspace, script, arguments=(), experiment=EXPERIMENT, wait=True):
    from amlocal.core import Environment, Experiment, ScriptRunConfig

    config = ScriptRunConfig(source_directory=str(SCRIPTS), script=script, arguments=list(arguments),
                             environment=Environment("studio-tests"))
    run = Experiment(workspace, experiment).submit(config)
    if wait:
        run.wait_for_completion(raise_on_error=False)
    return run


def make_runs(directory):
    """Two curve runs (lr 0.1 and 0.3), a failed run, a registered model, and (in another
    experiment) a run whose names and log are hostile; returns their ids."""
    workspace = open_workspace(directory)
    first = submit(workspace, "train_curve.py", ["--lr", "0.1", "--epochs", "40"])
    second = submit(workspace, "train_curve.py", ["--lr", "0.3", "--epochs", "40"])
    failed = submit(workspace, "train_fail.py")
    model = first.register_model(model_name="curve-model", model_path="outputs/model.txt",
                                 tags={"stage": "demo"}, properties={"lr": "0.1"})
    hostile = submit(workspace, "hostile.py", experiment="studio-hostile")
    return {"first": first.id, "second": second.id, "failed": failed.id, "hostile": hostile.id,
            "model": (model.name, model.version),
            "statuses": {r.id: r.get_status() for r in (first, second, failed, hostile)}}
