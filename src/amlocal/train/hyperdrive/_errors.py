"""The SDK's HyperDrive error messages (``azureml.train.hyperdrive.error_strings``), each followed
by what to do next, raised as ``amlocal.exceptions.HyperDriveConfigException``."""

from ...exceptions import HyperDriveConfigException

DOCS = "https://learn.microsoft.com/azure/machine-learning/v1/how-to-tune-hyperparameters-v1"


def invalid_setting(obj, condition, hint=None):
    """``InvalidConfigSetting``: "{obj} expects {condition}"."""
    message = f"{obj} expects {condition}"
    return HyperDriveConfigException(f"{message.rstrip('.')}. {hint}" if hint else message)


def invalid_type(expected, obj, actual, hint=None):
    """``InvalidType``: "Expected type {exp} for {obj} but got {actual}"."""
    message = f"Expected type {expected} for {obj} but got {type(actual).__name__} ({actual!r})."
    return HyperDriveConfigException(f"{message} {hint}" if hint else message)
