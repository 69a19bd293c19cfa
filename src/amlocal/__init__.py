"""amlocal: run Azure ML SDK v1 training jobs locally, in real containers, then on Azure by flag.

The public API mirrors azureml-core / azureml-train-core: ``amlocal.core``,
``amlocal.core.compute``, ``amlocal.core.compute_target``, ``amlocal.train.sklearn``.
"""

__version__ = "0.1.0"
