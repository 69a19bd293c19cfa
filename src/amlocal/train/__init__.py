"""Estimators (``azureml.train``): SKLearn."""
