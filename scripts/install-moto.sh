#!/usr/bin/env bash
# Installs moto (the AWS API emulator) with its server extras into a Python venv at .tools/moto,
# from PyPI. The Fargate tests run moto's ECS API in one Python process together with Smelter's
# task agent (test/tooling/moto-ecs-agent.py), which starts a real process for each RunTask.
# The agent uses moto internals (its ECS backend's task objects and state manager), so moto is
# pinned: change the pin only together with the agent. Idempotent: does nothing when the pinned
# version is there (stamp .tools/moto/moto.version). See docs/testing-cloud.md.
set -euo pipefail

MOTO_VERSION="5.2.6"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/moto"
STAMP="$VENV/moto.version"
PYTHON="${MOTO_PYTHON:-python3}"

source "$(dirname "${BASH_SOURCE[0]}")/lib/install-once.sh"

venv_present() { [[ -x "$VENV/bin/python" ]]; }
build() {
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "error: $PYTHON is not on PATH; install Python 3.9 or newer, then run: bash scripts/install-moto.sh" >&2
    return 1
  fi
  echo "installing moto[server]==$MOTO_VERSION into $VENV (PyPI; about a minute)..."
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  "$VENV/bin/python" -c "import moto, moto.server, moto.ecs; assert moto.__version__ == '$MOTO_VERSION', moto.__version__"
}
install_once moto "$MOTO_VERSION" "$STAMP" venv_present build
