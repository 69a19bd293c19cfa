"""Put first on the PYTHONPATH of a FakeV2Adapter job whose environment does not install mlflow,
so the job sees none even though the host's interpreter has it."""

raise ModuleNotFoundError("No module named 'mlflow' (the job's environment does not install it)", name="mlflow")
