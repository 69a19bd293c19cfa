"""Logs a little, then fails with an exception the studio must show."""

from azureml.core.run import Run

run = Run.get_context()
run.log("loss", 1.5, step=0)
print("loading data", flush=True)
raise ValueError("the training data has no rows")
