"""Tune the iris model with HyperDrive, then register the best one: the sample notebook
"train-hyperparameter-tune-deploy-with-sklearn" (Azure/MachineLearningNotebooks), line for
line, with ``amlocal`` in place of ``azureml``.

    python sweep_and_register.py             # local backend: 12 children, 4 at a time
    AMLOCAL_BACKEND=azureml python sweep_and_register.py   # a real HyperDrive run on Azure ML

Run it from this directory (``make sweep`` does): config.json here names the workspace.
"""

import os
import shutil
import sys

from amlocal.core import Environment, Experiment, ScriptRunConfig, Workspace
from amlocal.core.compute import AmlCompute, ComputeTarget
from amlocal.core.compute_target import ComputeTargetException
from amlocal.train.hyperdrive.parameter_expressions import choice
from amlocal.train.hyperdrive.run import PrimaryMetricGoal
from amlocal.train.hyperdrive.runconfig import HyperDriveConfig
from amlocal.train.hyperdrive.sampling import RandomParameterSampling

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)

ws = Workspace.from_config()
print(f"Workspace {ws.name} ({ws.backend_name} backend)")

project_folder = "./sklearn-iris"
os.makedirs(project_folder, exist_ok=True)
shutil.copy(os.path.join(HERE, "..", "..", "train_iris.py"), project_folder)

experiment = Experiment(workspace=ws, name="train_iris")

cluster_name = "cpu-cluster"
try:
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)
    print("Found existing compute target")
except ComputeTargetException:
    compute_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    compute_target = ComputeTarget.create(ws, cluster_name, compute_config)
    compute_target.wait_for_completion(show_output=True)

sklearn_env = Environment.get(ws, name="AzureML-sklearn-1.5")
src = ScriptRunConfig(source_directory=project_folder, script="train_iris.py",
                      arguments=["--kernel", "linear", "--penalty", 1.0],
                      compute_target=compute_target, environment=sklearn_env)

param_sampling = RandomParameterSampling({
    "--kernel": choice("linear", "rbf", "poly", "sigmoid"),
    "--penalty": choice(0.5, 1, 1.5),
})
hyperdrive_config = HyperDriveConfig(run_config=src, hyperparameter_sampling=param_sampling,
                                     primary_metric_name="Accuracy",
                                     primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                                     max_total_runs=12, max_concurrent_runs=4)

hyperdrive_run = experiment.submit(hyperdrive_config)
hyperdrive_run.wait_for_completion(show_output=True, raise_on_error=False)
if hyperdrive_run.get_status() != "Completed":
    print(f"Sweep {hyperdrive_run.id} ended {hyperdrive_run.get_status()}", file=sys.stderr)
    sys.exit(1)

best_run = hyperdrive_run.get_best_run_by_primary_metric()
print(best_run.get_details()["runDefinition"]["arguments"])
print(best_run.get_file_names())
model = best_run.register_model(model_name="sklearn-iris", model_path="outputs/model.joblib")

print(f"Sweep:    {hyperdrive_run.id} ({len(list(hyperdrive_run.get_children()))} children)")
print(f"Best run: {best_run.id}, Accuracy {best_run.get_metrics()['Accuracy']:.4f}")
print(f"Model:    {model.name} version {model.version}")
