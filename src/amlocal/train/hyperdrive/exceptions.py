"""``azureml.train.hyperdrive.exceptions``: the HyperDrive errors, which live in ``amlocal.exceptions``."""

from ...exceptions import (HyperDriveConfigException, HyperDriveException, HyperDriveNotImplementedException,
                           HyperDriveScenarioNotSupportedException)

__all__ = ["HyperDriveConfigException", "HyperDriveException", "HyperDriveNotImplementedException",
           "HyperDriveScenarioNotSupportedException"]
