"""The ``docker`` backend: each environment is an image (built once, keyed by what defines it),
each run a labelled container, as on Azure ML but on this machine's Docker engine.

The engine is reached through a small Engine API client (``engine``); the Docker SDK is only
needed for engines that are not on a unix socket (the ``amlocal[docker]`` extra).
"""

from .docker_backend import LocalDockerBackend

__all__ = ["LocalDockerBackend"]
