"""Registered environments of a local workspace: ``environments/<name>/<version>.json``."""

import json
import os

from ..exceptions import EnvironmentNotFoundError
from ..rules.names import validate_name
from ..specs import EnvironmentSpec, replace
from ..stores.environments import EnvironmentStore
from .layout import make_private_dir


class LocalEnvironments(EnvironmentStore):
    def __init__(self, layout):
        self.layout = layout

    def _directory(self, name):
        return self.layout.root / "environments" / validate_name("environment", name)

    def register(self, spec):
        """The next version is claimed by creating its file exclusively, so two processes
        registering at once get two versions."""
        directory = self._directory(spec.name)
        make_private_dir(directory)
        version = len(list(directory.glob("*.json"))) + 1
        while True:
            try:
                fd = os.open(directory / f"{version}.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileExistsError:
                version += 1
        registered = replace(spec, version=str(version))
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(registered.to_dict(), indent=2))
        return registered

    def get(self, name, version=None):
        from .. import curated_environments

        if curated_environments.is_curated_name(name):
            return curated_environments.lookup(name)
        directory = self._directory(name)
        versions = sorted((int(p.stem) for p in directory.glob("*.json") if p.stem.isdigit()), reverse=True)
        if not versions or (version is not None and int(version) not in versions):
            raise EnvironmentNotFoundError(
                f"No registered environment {name!r}" + (f" version {version}" if version else "") +
                (f"; its versions are {', '.join(map(str, sorted(versions)))}" if versions else "") +
                ". Environment.list(ws) shows the environments there are; env.register(ws) registers one.")
        chosen = int(version) if version is not None else versions[0]
        return EnvironmentSpec.from_dict(json.loads((directory / f"{chosen}.json").read_text()))

    def list(self):
        from .. import curated_environments

        found = {name: curated_environments.lookup(name) for name in curated_environments.known_names()}
        root = self.layout.root / "environments"
        if root.is_dir():
            for directory in sorted(root.iterdir()):
                versions = [int(p.stem) for p in directory.glob("*.json") if p.stem.isdigit()]
                if versions:
                    found[directory.name] = self.get(directory.name, max(versions))
        return found
