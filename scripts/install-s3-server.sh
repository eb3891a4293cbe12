#!/usr/bin/env bash
# Installs the complete S3 server the tests use besides s3rver: versitygw (Versity S3 Gateway,
# posix backend), built from the Go module proxy into .tools/bin. Idempotent: does nothing when
# the pinned version is already there. See docs/storage.md for why versitygw.
set -euo pipefail

VERSION="v1.8.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"
STAMP="$ROOT/.tools/versitygw.version"

if [[ -x "$BIN_DIR/versitygw" && -f "$STAMP" && "$(cat "$STAMP")" == "$VERSION" ]]; then
  echo "versitygw $VERSION already installed in $BIN_DIR"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "error: 'go' is not on PATH; install Go 1.24 or newer, then run: npm run setup:s3" >&2
  exit 1
fi

mkdir -p "$BIN_DIR"
echo "installing versitygw $VERSION into $BIN_DIR (go install through the Go module proxy; a few minutes on 2 cores)..."
start=$(date +%s)
GOBIN="$BIN_DIR" GOFLAGS="${GOFLAGS:--buildvcs=false}" go install "github.com/versity/versitygw/cmd/versitygw@$VERSION"
echo "$VERSION" > "$STAMP"
echo "installed $BIN_DIR/versitygw in $(( $(date +%s) - start )) s"
