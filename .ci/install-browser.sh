#!/usr/bin/env bash
# Installs Debian's Chromium when it is missing, for the test that opens report.html in a
# real headless browser (tests/integration/html.rs). Needs root (CI runs as root on Debian).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-browser: chromium is missing and this is not root; install it with" >&2
    echo "  sudo apt-get install chromium" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium
