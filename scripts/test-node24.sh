#!/usr/bin/env bash
# `npm run test:node24 [-- filter...]`: runs the test suite on Node 24 (installed into .tools/node24
# by scripts/install-node24.sh when missing), with that node first on PATH so every process the
# tests start (workers, the CLI, task agents) runs on it too. The build stays the one tsc output.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE24="$(bash "$ROOT/scripts/install-node24.sh")"
export PATH="$(dirname "$NODE24"):$PATH"
echo "running the tests on $(node --version) ($NODE24)"
cd "$ROOT"
exec node scripts/test.mjs "$@"
