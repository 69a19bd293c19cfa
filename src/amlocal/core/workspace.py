"""Workspace (``azureml.core.Workspace``): the config.json identity plus the backend that runs
its jobs. Locally a workspace is a directory under ``$AMLOCAL_HOME`` (default ``~/.amlocal``)."""

import json
import os
import sys
from pathlib import Path

from .. import _config
from .._plugins import get_backend_class
from ..exceptions import BackendUnavailableError, InvalidArgumentError
from ..specs import WorkspaceInfo

DEFAULT_BACKEND = "docker"
FALLBACK_BACKEND = "process"


class Workspace:
    def __init__(self, subscription_id, resource_group, workspace_name, auth=None, _location=None,
                 _disable_service_check=False, _workspace_id=None, sku='basic', tags=None, _cloud='AzureCloud',
                 backend=None, backend_options=None, _config_data=None, _config_path=None):
        for label, value in (("subscription_id", subscription_id), ("resource_group", resource_group),
                             ("workspace_name", workspace_name)):
            if not isinstance(value, str) or not value:
                raise InvalidArgumentError(f"Workspace needs {label} (a non-empty string).")
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.name = workspace_name
        self.location = _location
        self.sku = sku
        self.tags = tags or {}
        self.auth = auth
        self._config = dict(_config_data or {})
        self._config_path = _config_path
        self._backend_name, self._backend_source = self._choose_backend_name(backend)
        self._backend_options = dict(backend_options or {})
        self._backend = None
        self._stores = None

    # -- construction --------------------------------------------------------------------------
    @staticmethod
    def from_config(path=None, auth=None, _logger=None, _file_name=None, backend=None, backend_options=None):
        config_path = _config.find_config(path, _file_name)
        data = _config.read_config(config_path)
        return Workspace(data["subscription_id"], data["resource_group"], data["workspace_name"], auth=auth,
                         backend=backend, backend_options=backend_options, _config_data=data,
                         _config_path=str(config_path))

    @staticmethod
    def get(name, auth=None, subscription_id=None, resource_group=None, location=None, cloud='AzureCloud', id=None,
            backend=None):
        return Workspace(subscription_id or "local", resource_group or "local", name, auth=auth, backend=backend)

    def write_config(self, path=None, file_name=None):
        directory = Path(path or ".") / ".azureml"
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / (file_name or "config.json")
        data = {"subscription_id": self.subscription_id, "resource_group": self.resource_group,
                "workspace_name": self.name}
        data.update({k: v for k, v in self._config.items() if k not in data})
        target.write_text(json.dumps(data, indent=4))
        return str(target)

    # -- backend and stores ---------------------------------------------------------------------
    def _choose_backend_name(self, explicit):
        """Precedence: the argument, AMLOCAL_BACKEND, config.json "backend", then the default."""
        for source, value in (("argument", explicit), ("AMLOCAL_BACKEND", os.environ.get("AMLOCAL_BACKEND")),
                              ("config.json", self._config.get("backend"))):
            if value:
                get_backend_class(value)  # unknown or not installed: fail here, saying what to do
                return value, source
        return DEFAULT_BACKEND, "default"

    @property
    def backend_name(self):
        """The chosen backend's name; a defaulted docker becomes process when no engine answers
        (or the docker backend is not installed)."""
        if self._backend_source == "default" and self._backend_name == DEFAULT_BACKEND:
            try:
                available = get_backend_class(DEFAULT_BACKEND).is_available()
                reason = "no Docker engine answers"
            except BackendUnavailableError as err:
                available, reason = False, str(err)
            if not available:
                print(f"amlocal: {reason}; using the {FALLBACK_BACKEND!r} backend "
                      "(set AMLOCAL_BACKEND=docker to require Docker).", file=sys.stderr)
                self._backend_name = FALLBACK_BACKEND
            self._backend_source = "default (checked)"
        return self._backend_name

    @property
    def _info(self):
        """This workspace as plain data, for backends and stores."""
        return WorkspaceInfo(name=self.name, subscription_id=self.subscription_id, resource_group=self.resource_group,
                             config=self._config, base_image=self.base_image)

    def _options(self):
        options = dict(self._backend_options)
        if self.auth is not None:
            options.setdefault("auth", self.auth)
        return options

    @property
    def stores(self):
        """The workspace's run history, model registry, compute targets, datastores and
        environments (``amlocal.stores``), opened without starting any execution engine."""
        if self._stores is None:
            name = self._backend_name
            if self._backend_source == "default":  # no need to ask Docker to read a local workspace
                try:
                    get_backend_class(name)
                except BackendUnavailableError:
                    name = FALLBACK_BACKEND
            self._stores = get_backend_class(name).open_stores(self._info, **self._options())
        return self._stores

    @property
    def backend(self):
        """The execution backend (``amlocal.execution``) runs are submitted to."""
        if self._backend is None:
            backend_class = get_backend_class(self.backend_name)
            self._backend = backend_class(self._info, self.stores, **self._options())
        return self._backend

    @property
    def run_history(self):
        return self.stores.run_history

    @property
    def model_registry(self):
        return self.stores.model_registry

    @property
    def base_image(self):
        """The workspace's default base image: AMLOCAL_BASE_IMAGE, config.json "base_image", or None."""
        return os.environ.get("AMLOCAL_BASE_IMAGE") or self._config.get("base_image")

    def get_default_datastore(self):
        from .datastore import Datastore

        return Datastore(self)

    @property
    def datastores(self):
        from .datastore import Datastore

        return {name: Datastore(self, name) for name in self.stores.datastores.names()}

    @property
    def compute_targets(self):
        from .compute import AmlCompute

        return {record["name"]: AmlCompute._from_record(self, record) for record in self.stores.compute_targets.list()}

    @property
    def experiments(self):
        from .experiment import Experiment

        return {name: Experiment(self, name) for name in self.run_history.list_experiments()}

    def __repr__(self):
        return (f"Workspace.create(name={self.name!r}, subscription_id={self.subscription_id!r}, "
                f"resource_group={self.resource_group!r}, backend={self._backend_name!r})")
