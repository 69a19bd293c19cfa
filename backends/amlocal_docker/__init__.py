"""The ``docker`` backend: each environment is an image (built once, keyed by what defines it),
each run a labelled container, as on Azure ML but on this machine's Docker engine.

``docker`` (the SDK) is imported only when the backend talks to the engine, so reading run
history with this backend chosen costs no Docker import.
"""

from .backend import LocalDockerBackend

__all__ = ["LocalDockerBackend"]
