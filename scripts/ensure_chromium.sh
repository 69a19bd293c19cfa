#!/usr/bin/env bash
# Make sure a headless Chromium is there for the studio's browser tests (tests/studio).
#
# Idempotent: exits 0 at once when $AMLOCAL_CHROMIUM (default /usr/bin/chromium) exists.
# Otherwise, as root on a Debian/Ubuntu machine, installs Debian's `chromium` package
# (apt's output goes to /var/log/amlocal-chromium-install.log). Elsewhere it says what to
# install and exits 0: the browser tests then fail, saying the same.
set -euo pipefail

CHROMIUM="${AMLOCAL_CHROMIUM:-/usr/bin/chromium}"
LOG_FILE="${AMLOCAL_CHROMIUM_LOG:-/var/log/amlocal-chromium-install.log}"

say() { echo "amlocal: $*" >&2; }

[ -x "$CHROMIUM" ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "WARNING: no Chromium at $CHROMIUM; the studio's browser tests need it."
    say "Install Debian's package (sudo apt-get install chromium) or set AMLOCAL_CHROMIUM to a Chromium binary."
    exit 0
fi

say "installing Debian's chromium for the studio's browser tests (log: $LOG_FILE) ..."
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -q && apt-get install -y -q chromium; } >"$LOG_FILE" 2>&1; then
    tail -n 20 "$LOG_FILE" >&2
    say "ERROR: installing chromium failed (see $LOG_FILE)."
    exit 1
fi
say "chromium installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
