#!/usr/bin/env bash
# Installs the AWS Lambda Runtime Interface Emulator (aws-lambda-rie), the real runtime API the
# Lambda tests run Smelter's bootstrap under, built from the Go module proxy into .tools/bin.
# Idempotent: does nothing when the pinned version is already there (stamp .tools/lambda-rie.version).
# The module's v1.x tags are not served by the proxy, so the pin is a pseudo-version (a commit).
# See docs/testing-cloud.md.
set -euo pipefail

VERSION="v0.0.0-20261030222936-bef5c4ba774d"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"
STAMP="$ROOT/.tools/lambda-rie.version"

installed() { [[ -x "$BIN_DIR/aws-lambda-rie" && -f "$STAMP" && "$(cat "$STAMP")" == "$VERSION" ]]; }

if installed; then
  echo "aws-lambda-rie $VERSION already installed in $BIN_DIR"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "error: 'go' is not on PATH; install Go 1.24 or newer, then run: bash scripts/install-lambda-rie.sh" >&2
  exit 1
fi

mkdir -p "$BIN_DIR"
# One build at a time: a second run waits for the first and then finds the stamp.
exec 9>"$ROOT/.tools/lambda-rie.lock"
flock 9
if installed; then
  echo "aws-lambda-rie $VERSION already installed in $BIN_DIR"
  exit 0
fi
echo "installing aws-lambda-rie $VERSION into $BIN_DIR (go install through the Go module proxy; about a minute)..."
start=$(date +%s)
GOBIN="$BIN_DIR" GOFLAGS="${GOFLAGS:--buildvcs=false}" \
  go install "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$VERSION"
echo "$VERSION" > "$STAMP"
echo "installed $BIN_DIR/aws-lambda-rie in $(( $(date +%s) - start )) s"
