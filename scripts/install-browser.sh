#!/usr/bin/env bash
# Installs the browser the report tests drive: Debian's `chromium` package (/usr/bin/chromium),
# driven by playwright-core (a devDependency) with executablePath pointing at it. Idempotent: does
# nothing when /usr/bin/chromium is there. Needs root (apt-get); runs `apt-get update` first.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: apt-get not found; install Chromium so that /usr/bin/chromium exists, then rerun the tests" >&2
  exit 1
fi
SUDO=""
if [[ "$(id -u)" != "0" ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "error: installing chromium needs root (apt-get install chromium)" >&2
    exit 1
  fi
fi
echo "installing Debian's chromium (apt-get; a minute or two)..."
start=$(date +%s)
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
apt_get update -qq
apt_get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "installed $(/usr/bin/chromium --version 2>/dev/null) in $(( $(date +%s) - start )) s"
