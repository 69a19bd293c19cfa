"""Who runs what amlocal starts in a container: never root."""

import os

#: the user a container runs as when amlocal itself runs as root
UNPRIVILEGED_USER = (65534, 65534)


def job_user():
    """(uid, gid) a job, a service or an environment build runs as: the invoking user's, or
    ``nobody`` when amlocal runs as root."""
    if os.getuid() == 0:
        return UNPRIVILEGED_USER
    return os.getuid(), os.getgid()
