"""Local stand-in for the ``azureml`` namespace (see ``amlocal._runtime``).

The path is extended so that the real SDK's subpackages, when installed, stay importable.
"""
__path__ = __import__('pkgutil').extend_path(__path__, __name__)
