#!/usr/bin/env bash
# Print (on stdout, and nothing else) the name of a usable local base image
# for amlocal's Docker backend. Progress and diagnostics go to stderr.
#
# Order of preference:
#   1. $AMLOCAL_BASE_IMAGE, if that image exists locally;
#   2. python:3.11-slim, if it exists locally;
#   3. python:3.11-slim, if `docker pull` succeeds within 60 s;
#   4. amlocal-base:bookworm, if it exists locally;
#   5. amlocal-base:bookworm, built offline with debootstrap + docker import
#      (needs root and access to a Debian mirror; no container registry).
# Every candidate must be able to run `python3 -c 'import venv'`.
#
# Safe to run concurrently: callers are serialised with flock.
#
# Environment:
#   AMLOCAL_BASE_IMAGE      preferred image (used only if present locally).
#   AMLOCAL_DEBIAN_MIRROR   mirror for debootstrap (default: the host's apt
#                           mirror, else http://deb.debian.org/debian).
#   AMLOCAL_PULL_TIMEOUT    seconds allowed for `docker pull` (default 60).
set -euo pipefail

# Keep stdout clean: only the final image name is written to fd 3.
exec 3>&1 1>&2

SLIM_IMAGE="python:3.11-slim"
BUILT_IMAGE="amlocal-base:bookworm"
SUITE="bookworm"
LOCK_FILE="/tmp/amlocal-base-image.lock"
PULL_TIMEOUT="${AMLOCAL_PULL_TIMEOUT:-60}"

say() { echo "amlocal: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed; run scripts/ensure_docker.sh first."
timeout 20 docker info >/dev/null 2>&1 || die "the Docker engine does not answer 'docker info'; run scripts/ensure_docker.sh first."

image_exists() {
    docker image inspect "$1" >/dev/null 2>&1
}

image_works() {
    # The runner creates a virtualenv inside the container, so venv is required.
    if docker run --rm --network none "$1" python3 -c 'import venv' >/dev/null 2>&1; then
        return 0
    fi
    say "image '$1' cannot run \"python3 -c 'import venv'\"; not using it."
    return 1
}

emit() {
    say "base image: $1"
    echo "$1" >&3
    exit 0
}

# Serialise concurrent callers (pull/build must happen once).
exec 9>"$LOCK_FILE"
if ! flock -n 9; then
    say "another process is preparing the base image; waiting for it ..."
    flock 9
fi

# 1. Explicit choice.
if [ -n "${AMLOCAL_BASE_IMAGE:-}" ]; then
    if image_exists "$AMLOCAL_BASE_IMAGE"; then
        image_works "$AMLOCAL_BASE_IMAGE" && emit "$AMLOCAL_BASE_IMAGE"
    else
        say "AMLOCAL_BASE_IMAGE='$AMLOCAL_BASE_IMAGE' is not present locally; looking for another image."
    fi
fi

# 2. Official slim image already present.
if image_exists "$SLIM_IMAGE"; then
    image_works "$SLIM_IMAGE" && emit "$SLIM_IMAGE"
fi

# 3. Try to pull it (fails fast when no registry is reachable).
say "trying 'docker pull $SLIM_IMAGE' (timeout ${PULL_TIMEOUT}s) ..."
if timeout "$PULL_TIMEOUT" docker pull -q "$SLIM_IMAGE" >/dev/null 2>&1 && image_exists "$SLIM_IMAGE"; then
    image_works "$SLIM_IMAGE" && emit "$SLIM_IMAGE"
else
    say "could not pull $SLIM_IMAGE (no registry access?)."
fi

# 4. Previously built offline image.
if image_exists "$BUILT_IMAGE"; then
    if image_works "$BUILT_IMAGE"; then
        emit "$BUILT_IMAGE"
    fi
    say "rebuilding $BUILT_IMAGE ..."
fi

# 5. Build it offline from Debian packages.
[ "$(id -u)" -eq 0 ] || die "no usable base image and building $BUILT_IMAGE needs root (debootstrap). Re-run as root, or provide an image with python3 + venv and set AMLOCAL_BASE_IMAGE to its name."

if ! command -v debootstrap >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "debootstrap is not installed and apt-get is not available; install debootstrap, or set AMLOCAL_BASE_IMAGE to a local image with python3 + venv."
    say "installing debootstrap ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q 9>&- || die "'apt-get update' failed."
    apt-get install -y -q debootstrap 9>&- || die "'apt-get install debootstrap' failed."
fi

host_mirror() {
    # First Debian archive URI configured for apt on this host, if any.
    local uri=""
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        uri=$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i !~ /security/) {print $i; exit}}' \
            /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' \
            /etc/apt/sources.list)
    fi
    echo "$uri"
}

MIRROR="${AMLOCAL_DEBIAN_MIRROR:-$(host_mirror)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"

WORK_DIR=$(mktemp -d /var/tmp/amlocal-rootfs.XXXXXX)
# shellcheck disable=SC2317  # invoked via trap
cleanup() { rm -rf --one-file-system "$WORK_DIR"; }
trap cleanup EXIT
ROOTFS="$WORK_DIR/rootfs"

say "building $BUILT_IMAGE offline with debootstrap ($SUITE from $MIRROR); this takes about a minute ..."
if ! debootstrap --variant=minbase \
        --include=python3,python3-venv,python3-pip,ca-certificates \
        "$SUITE" "$ROOTFS" "$MIRROR" 9>&-; then
    [ -f "$ROOTFS/debootstrap/debootstrap.log" ] && tail -n 30 "$ROOTFS/debootstrap/debootstrap.log" >&2
    die "debootstrap failed (see above)."
fi

# Shrink the image: package caches and lists are not needed at run time.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/debootstrap

say "importing root filesystem as $BUILT_IMAGE ..."
tar -C "$ROOTFS" --numeric-owner -c . | docker import \
    -c 'ENV LANG=C.UTF-8' \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["python3"]' \
    -m "amlocal offline base image (debootstrap $SUITE minbase + python3)" \
    - "$BUILT_IMAGE" >/dev/null || die "docker import failed."

image_works "$BUILT_IMAGE" || die "the freshly built $BUILT_IMAGE cannot import venv."
emit "$BUILT_IMAGE"
