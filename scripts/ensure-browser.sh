#!/usr/bin/env bash
# Make sure the headless browser of the end-to-end tests (tests/e2e) is installed: Debian's
# chromium at /usr/bin/chromium. Idempotent: does nothing when it is already there.
# `make test` runs this first. The tests fail (rather than skip) without a browser, unless
# RETROUVE_SKIP_BROWSER=1 is set.
#
# Installs with apt-get, as root or through sudo when that exists. `apt-get update` only runs
# when the first install attempt fails (stale or empty package lists), so the usual case does
# not touch the network.
set -euo pipefail

# RETROUVE_CHROMIUM: another path to check (used to test this script itself).
CHROMIUM=${RETROUVE_CHROMIUM:-/usr/bin/chromium}

if [[ -x "$CHROMIUM" ]]; then
    exit 0
fi
if [[ "${RETROUVE_SKIP_BROWSER:-}" == "1" ]]; then
    echo "ensure-browser: $CHROMIUM missing; RETROUVE_SKIP_BROWSER=1, browser tests will be skipped" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-browser: $CHROMIUM missing and no apt-get here: install Chromium by hand," \
         "or set RETROUVE_SKIP_BROWSER=1 to skip the browser tests" >&2
    exit 1
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "ensure-browser: $CHROMIUM missing; not root and no sudo: run as root" \
             "'apt-get install chromium', or set RETROUVE_SKIP_BROWSER=1" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
install() {
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends chromium
}

echo "ensure-browser: installing Debian's chromium for the end-to-end tests" >&2
if ! install; then
    echo "ensure-browser: install failed; refreshing the package lists and retrying" >&2
    "${SUDO[@]}" apt-get update
    install
fi

if [[ ! -x "$CHROMIUM" ]]; then
    echo "ensure-browser: chromium installed but $CHROMIUM is still missing" >&2
    exit 1
fi
echo "ensure-browser: $("$CHROMIUM" --version 2>/dev/null || echo chromium) ready" >&2
