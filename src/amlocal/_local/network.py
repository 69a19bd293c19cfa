"""Whether a local run's job may use the network.

Outbound network stays open by default, as on AmlCompute. It is cut (the job's container gets
no network interface but loopback) when the run asks for it, with azureml's own
``DockerConfiguration(arguments=["--network", "none"])`` (``amlocal.core.runconfig``), or when
config.json cuts it for the run's compute target or for the whole workspace:

    "network": false                                  every run of this workspace
    "network": {"cpu-cluster": false, "local": false} runs on cpu-cluster; runs with no target

A run gets the network only when neither its configuration nor config.json cuts it.
"""

from ..exceptions import ConfigError

#: the key for runs without a compute target
LOCAL_TARGET = "local"


def network_allowed(config, compute_target):
    """config.json's word (``config``: its values) on the network of runs on ``compute_target``
    (a name, or None for runs without one)."""
    setting = (config or {}).get("network", True)
    if isinstance(setting, bool):
        return setting
    if isinstance(setting, dict):
        value = setting.get(compute_target or LOCAL_TARGET, True)
        if isinstance(value, bool):
            return value
        raise ConfigError(f'config.json "network" -> {compute_target or LOCAL_TARGET!r} is {value!r}; use true or '
                          'false.')
    raise ConfigError(f'config.json "network" is {setting!r}; use true, false, or an object of compute target '
                      'names (and "local") to true or false, for example {"cpu-cluster": false}.')
