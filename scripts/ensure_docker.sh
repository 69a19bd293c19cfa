#!/usr/bin/env bash
# Make sure a Docker engine answers `docker info`.
#
# Idempotent: exits 0 immediately when the engine already answers.
# Otherwise, when running as root on a Debian/Ubuntu machine, installs the
# `docker.io` package (if dockerd is missing) and starts dockerd in the
# background, logging to /var/log/amlocal-dockerd.log.
#
# Environment:
#   AMLOCAL_ALLOW_NO_DOCKER=1   a missing/unstartable engine is a warning
#                               (exit 0) instead of an error (exit 1).
#   AMLOCAL_DOCKERD_LOG         dockerd log file
#                               (default /var/log/amlocal-dockerd.log).
#   AMLOCAL_DOCKER_WAIT         seconds to wait for the engine (default 60).
set -euo pipefail

LOG_FILE="${AMLOCAL_DOCKERD_LOG:-/var/log/amlocal-dockerd.log}"
WAIT_SECONDS="${AMLOCAL_DOCKER_WAIT:-60}"
LOCK_FILE="/tmp/amlocal-docker.lock"

say() { echo "amlocal: $*" >&2; }

docker_answers() {
    command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1
}

give_up() {
    # $1: explanation of what the user should do.
    if [ "${AMLOCAL_ALLOW_NO_DOCKER:-0}" = "1" ]; then
        say "WARNING: Docker engine is not available: $1"
        say "WARNING: continuing without Docker (AMLOCAL_ALLOW_NO_DOCKER=1)."
        exit 0
    fi
    say "ERROR: Docker engine is not available."
    say "$1"
    exit 1
}

dockerd_running() {
    # pgrep is not always installed (or usable); scan /proc directly.
    local f comm
    for f in /proc/[0-9]*/comm; do
        comm=""
        read -r comm <"$f" 2>/dev/null || continue
        [ "$comm" = "dockerd" ] && return 0
    done
    return 1
}

wait_for_engine() {
    local waited=0
    while [ "$waited" -lt "$WAIT_SECONDS" ]; do
        if docker_answers; then
            say "Docker engine is up (after ${waited}s)."
            return 0
        fi
        # If the daemon we started died, stop waiting early.
        if [ -n "${DOCKERD_PID:-}" ] && ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
            say "dockerd exited early; last lines of $LOG_FILE:"
            tail -n 20 "$LOG_FILE" >&2 || true
            return 1
        fi
        if [ $((waited % 5)) -eq 0 ]; then
            say "waiting for Docker engine ... (${waited}s/${WAIT_SECONDS}s)"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    return 1
}

# Fast path: nothing to do.
if docker_answers; then
    exit 0
fi

# A docker CLI exists but cannot talk to the engine because of permissions.
if command -v docker >/dev/null 2>&1 && [ "$(id -u)" -ne 0 ]; then
    if docker info 2>&1 | grep -qi 'permission denied'; then
        give_up "The engine is running but '$(id -un)' may not use it. Add the user to the 'docker' group (sudo usermod -aG docker $(id -un); then log in again) or run as root."
    fi
fi

if [ "$(id -u)" -ne 0 ]; then
    give_up "Not running as root, so it cannot be installed/started automatically. Install Docker (e.g. 'sudo apt-get install docker.io') and start it ('sudo systemctl start docker' or 'sudo dockerd &'), then retry; or re-run this as root."
fi

# Serialise concurrent callers (e.g. make -j): one installs/starts, others wait.
exec 9>"$LOCK_FILE"
if ! flock -n 9; then
    say "another process is starting the Docker engine; waiting for it ..."
    flock 9
fi
if docker_answers; then
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1; then
        give_up "dockerd is not installed and apt-get is not available. Install Docker with your distribution's package manager (https://docs.docker.com/engine/install/) and start it, then retry."
    fi
    say "installing Docker engine (apt-get install docker.io) ..."
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get update -q >&2 9>&-; then
        give_up "'apt-get update' failed; check network access to the Debian mirrors, then retry."
    fi
    if ! apt-get install -y -q docker.io >&2 9>&-; then
        give_up "'apt-get install docker.io' failed (see output above)."
    fi
    say "Docker engine package installed."
    # On a systemd machine the package starts the service by itself.
    if docker_answers; then
        say "Docker engine is up."
        exit 0
    fi
fi

say "starting Docker engine ..."
DOCKERD_PID=""
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    # systemd is PID 1: let it own the daemon.
    systemctl start docker >&2 9>&- || say "systemctl start docker failed; starting dockerd directly."
fi
if ! docker_answers; then
    if dockerd_running; then
        say "a dockerd process is already running; waiting for it to answer ..."
    else
        mkdir -p "$(dirname "$LOG_FILE")"
        say "launching dockerd in the background (log: $LOG_FILE)"
        # fd 9 (the lock) must not leak into the long-lived daemon.
        nohup dockerd >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
        DOCKERD_PID=$!
        disown "$DOCKERD_PID" 2>/dev/null || true
    fi
fi

if wait_for_engine; then
    exit 0
fi

if [ -n "$DOCKERD_PID" ]; then
    give_up "The engine did not come up within ${WAIT_SECONDS}s. See $LOG_FILE for the daemon's log."
fi
give_up "A dockerd process is running but 'docker info' does not answer after ${WAIT_SECONDS}s. Check that daemon (its log, DOCKER_HOST, /var/run/docker.sock) or stop it and re-run this script."
