"""Whether an Azure ML SDK is installed, asked without importing it."""

import importlib.util


def require_sdk(module, backend, distribution, extra):
    """Raise ImportError naming the extra to install (``pip install 'amlocal[<extra>]'``) unless
    ``module`` of ``distribution`` can be found."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ImportError(f"the {backend} backend needs {distribution}, which is not installed; "
                          f"install it with: pip install 'amlocal[{extra}]'")
