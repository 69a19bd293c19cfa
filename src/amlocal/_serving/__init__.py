"""Files amlocal puts into web services: the default scorer for scikit-learn models."""

from pathlib import Path

#: ``amlocal model serve`` and ``Model.deploy`` without an InferenceConfig use this entry script
SKLEARN_SCORER = Path(__file__).with_name("sklearn_score.py")
#: what the default scorer needs besides the inference server
SKLEARN_PACKAGES = ("scikit-learn", "joblib")
