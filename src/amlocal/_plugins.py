"""Finding backends by name: the ``amlocal.backends`` entry-point group, plus the built-in
names so that an unknown or not-installed backend gets a helpful error."""

from importlib import import_module

from .exceptions import BackendUnavailableError, UnknownBackendError

ENTRY_POINT_GROUP = "amlocal.backends"

# name -> ("module:Class", what to install when the import fails)
BUILTIN_BACKENDS = {
    "docker": ("amlocal_docker:LocalDockerBackend", "pip install amlocal"),
    "process": ("amlocal_process:LocalProcessBackend", "pip install amlocal"),
    "azureml": ("amlocal_azureml:AzureMLBackend", "pip install 'amlocal[azure]'"),
    "azureml-v2": ("amlocal_azureml_v2:AzureMLV2Backend", "pip install 'amlocal[azure-v2]'"),
}
_loaded = {}


def _entry_points():
    from importlib.metadata import entry_points

    try:
        found = entry_points(group=ENTRY_POINT_GROUP)
    except TypeError:  # Python < 3.10
        found = entry_points().get(ENTRY_POINT_GROUP, [])
    return {ep.name: ep.value for ep in found}


def known_backends():
    """{name: "module:Class"} of every backend a user can choose."""
    targets = {name: target for name, (target, _) in BUILTIN_BACKENDS.items()}
    targets.update(_entry_points())
    return targets


def get_backend_class(name):
    """The backend class registered as ``name``. Built-in names are imported directly (scanning
    installed entry points costs tens of milliseconds on every run start); other names are
    looked up in the ``amlocal.backends`` entry-point group."""
    if name in _loaded:
        return _loaded[name]
    if name in BUILTIN_BACKENDS:
        target = BUILTIN_BACKENDS[name][0]
    else:
        targets = known_backends()
        if name not in targets:
            raise UnknownBackendError(name, targets)
        target = targets[name]
    module_name, _, class_name = target.partition(":")
    try:
        module = import_module(module_name)
    except ImportError as err:
        hint = BUILTIN_BACKENDS.get(name, (None, f"install the package that provides {module_name}"))[1]
        raise BackendUnavailableError(
            f"The {name!r} backend cannot be loaded ({err}). Install it with: {hint}"
        ) from err
    backend_class = getattr(module, class_name)
    _loaded[name] = backend_class
    return backend_class
