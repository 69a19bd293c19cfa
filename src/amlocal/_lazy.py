"""Names a package exports but imports only on first use (PEP 562 module ``__getattr__``)."""

import sys
from importlib import import_module


def lazy_exports(package, exports):
    """The ``__getattr__`` and ``__dir__`` of package ``package`` (its ``__name__``), whose name
    ``n`` is ``getattr(<the submodule exports[n]>, n)`` (a relative module name, e.g.
    ``".run"``), imported when first asked for and kept in the package from then on."""

    def __getattr__(name):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(exports[name], package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
