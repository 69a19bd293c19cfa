from job_helpers import docker_ws, process_ws  # noqa: F401  (fixtures)
