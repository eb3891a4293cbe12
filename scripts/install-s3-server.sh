#!/usr/bin/env bash
# Installs the complete S3 server the tests use besides s3rver: versitygw (Versity S3 Gateway,
# posix backend), built from the Go module proxy into .tools/bin. Idempotent: does nothing when
# the pinned version is already there. See docs/storage.md for why versitygw.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-tool.sh"
go_install_tool versitygw versitygw github.com/versity/versitygw/cmd/versitygw v1.8.0 "npm run setup:s3"
