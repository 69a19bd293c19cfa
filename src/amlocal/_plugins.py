"""Finding backends by name: the ``amlocal.backends`` entry-point group.

Every backend, built-in or not, is found the same way: an entry point ``name = "module:Class"``
in that group. The names below are only hints for backends that are not installed yet, so a
user who asks for one learns what to install; they are not a second list of backends.
"""

from importlib import import_module

from .exceptions import BackendUnavailableError, UnknownBackendError

ENTRY_POINT_GROUP = "amlocal.backends"

#: what to install when a well-known backend is missing or cannot be imported
INSTALL_HINTS = {
    "docker": "pip install 'amlocal[docker]'",
    "process": "pip install amlocal",
    "azureml": "pip install 'amlocal[azure]'",
    "azureml-v2": "pip install 'amlocal[azure-v2]'",
}
_targets = None
_loaded = {}


def _entry_points():
    from importlib.metadata import entry_points

    try:
        found = entry_points(group=ENTRY_POINT_GROUP)
    except TypeError:  # Python < 3.10
        found = entry_points().get(ENTRY_POINT_GROUP, [])
    return {ep.name: ep.value for ep in found}


def known_backends():
    """{name: "module:Class"} of every installed backend (scanned once per process)."""
    global _targets
    if _targets is None:
        _targets = _entry_points()
    return dict(_targets)


def backend_target(name):
    """The "module:Class" of backend ``name``. Raises UnknownBackendError (listing the known
    ones) or BackendUnavailableError (saying what to install)."""
    targets = known_backends()
    if name in targets:
        return targets[name]
    if name in INSTALL_HINTS:
        raise BackendUnavailableError(f"The {name!r} backend is not installed. Install it with: {INSTALL_HINTS[name]}")
    raise UnknownBackendError(name, targets)


def load_target(target, name=None):
    """The class at "module:Class"; BackendUnavailableError saying what to install when its
    module cannot be imported (an optional dependency is missing)."""
    if target in _loaded:
        return _loaded[target]
    module_name, _, class_name = target.partition(":")
    try:
        module = import_module(module_name)
    except ImportError as err:
        hint = INSTALL_HINTS.get(name, f"install the package that provides {module_name}")
        raise BackendUnavailableError(f"The {name or module_name!r} backend cannot be loaded ({err}). "
                                      f"Install it with: {hint}") from err
    backend_class = getattr(module, class_name)
    _loaded[target] = backend_class
    return backend_class


def get_backend_class(name):
    """The backend class registered as ``name``."""
    return load_target(backend_target(name), name)
