"""The ``process`` backend: the cloud's phases without Docker. Each environment becomes a cached
virtualenv and each run a subprocess; for machines where no Docker engine runs."""

from .process_backend import LocalProcessBackend

__all__ = ["LocalProcessBackend"]
