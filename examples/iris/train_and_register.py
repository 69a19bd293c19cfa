"""Train and register the iris model: the Azure ML "train and register a scikit-learn model"
flow, line for line, with ``amlocal`` in place of ``azureml``.

    python train_and_register.py            # local backend (Docker, or processes without it)
    AMLOCAL_BACKEND=azureml python train_and_register.py   # the same, on Azure ML

Run it from this directory: config.json here names the workspace.
"""

import os
import shutil
import sys

from amlocal.core import Experiment, Workspace
from amlocal.core.compute import AmlCompute, ComputeTarget
from amlocal.core.compute_target import ComputeTargetException
from amlocal.train.sklearn import SKLearn

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)

ws = Workspace.from_config()
print(f"Workspace {ws.name} ({ws.backend_name} backend)")

project_folder = "./sklearn-iris"
os.makedirs(project_folder, exist_ok=True)
shutil.copy(os.path.join(HERE, "..", "..", "train_iris.py"), project_folder)

exp = Experiment(workspace=ws, name="sklearn-iris")

ds = ws.get_default_datastore()
ds.upload(src_dir="./data/iris", target_path="iris", overwrite=True, show_progress=True)

cluster_name = "cpu-cluster"
try:
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)
    print("Found existing compute target")
except ComputeTargetException:
    print("Creating a new compute target...")
    compute_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    compute_target = ComputeTarget.create(ws, cluster_name, compute_config)
    compute_target.wait_for_completion(show_output=True, min_node_count=None, timeout_in_minutes=20)

script_params = {
    "--kernel": "linear",
    "--penalty": 1.0,
    "--data-folder": ds.path("iris").as_mount(),
}
estimator = SKLearn(source_directory=project_folder, script_params=script_params, compute_target=compute_target,
                    entry_script="train_iris.py", pip_packages=["joblib"])

run = exp.submit(estimator)
run.wait_for_completion(show_output=True, raise_on_error=False)
status = run.get_status()
if status != "Completed":
    print(f"Run {run.id} ended {status}: {run.get_details().get('error', {}).get('message')}", file=sys.stderr)
    sys.exit(1)

model = run.register_model(model_name="sklearn-iris", model_path="outputs/model.joblib")
print(f"Run id:   {run.id}")
print(f"Status:   {status}")
print(f"Accuracy: {run.get_metrics()['Accuracy']:.4f}")
print(f"Model:    {model.name} version {model.version}")
