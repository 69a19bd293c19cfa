"""``DockerConfiguration`` (``azureml.core.runconfig.DockerConfiguration``): how a job's container
runs.

azureml passes ``arguments`` to ``docker run`` on the compute. Locally a job is untrusted
code with a fixed posture (non-root, no capabilities, limits), so amlocal applies only the
arguments that take something away: ``--network none`` (also ``--network=none``,
``--net none``, ``--net=none``) runs the job with no network interface but loopback. Any
other argument is not applied locally (a warning says so at submit); it still goes to Azure
ML with the ``azureml`` backend.

    from amlocal.core.runconfig import DockerConfiguration
    src = ScriptRunConfig(..., docker_runtime_config=DockerConfiguration(use_docker=True,
                                                                         arguments=["--network", "none"]))

(A whole compute target, or every run of a workspace, can be cut off the network in
config.json: ``"network": {"cpu-cluster": false}`` or ``"network": false``; see
``amlocal._local.network``.)
"""

import sys

from ..exceptions import InvalidArgumentError

NETWORK_OPTIONS = ("--network", "--net")


class DockerConfiguration:
    def __init__(self, use_docker=False, shared_volumes=True, arguments=None, shm_size="2g"):
        if arguments is not None and (isinstance(arguments, str) or not all(isinstance(a, str) for a in arguments)):
            raise InvalidArgumentError(f"DockerConfiguration(arguments={arguments!r}): give a list of strings, "
                                       "for example ['--network', 'none'].")
        self.use_docker = use_docker
        self.shared_volumes = shared_volumes
        self.arguments = list(arguments or [])
        self.shm_size = shm_size

    def _network(self):
        """(whether the job may use the network, the arguments not applied locally)."""
        network, ignored = True, []
        arguments = list(self.arguments)
        while arguments:
            argument = arguments.pop(0)
            option, sep, value = argument.partition("=")
            if option in NETWORK_OPTIONS:
                if not sep:
                    value = arguments.pop(0) if arguments else ""
                if value != "none":
                    ignored.append(f"{option} {value}".strip())
                else:
                    network = False
                continue
            ignored.append(argument)
        return network, ignored


def network_of(docker_runtime_config, run_config=None):
    """False when the run's DockerConfiguration asks for ``--network none``; warns on stderr
    about its other docker arguments, which a local run does not apply."""
    docker = docker_runtime_config or getattr(run_config, "docker", None)
    if docker is None:
        return True
    if not isinstance(docker, DockerConfiguration):
        raise InvalidArgumentError(f"docker_runtime_config must be a DockerConfiguration, got {type(docker).__name__}.")
    network, ignored = docker._network()
    if ignored:
        print(f"amlocal: docker arguments {' '.join(ignored)} are not applied to local runs (a local job's "
              "container has a fixed posture; only '--network none' is applied).", file=sys.stderr)
    return network
