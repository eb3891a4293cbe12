#!/usr/bin/env bash
# Installs the AWS Lambda Runtime Interface Emulator (aws-lambda-rie), the real runtime API the
# Lambda tests run Smelter's bootstrap under, built from the Go module proxy into .tools/bin.
# Idempotent: does nothing when the pinned version is already there (stamp .tools/lambda-rie.version).
# The module's v1.x tags are not served by the proxy, so the pin is a pseudo-version (a commit).
# See docs/testing-cloud.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-tool.sh"
go_install_tool lambda-rie aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie \
  v0.0.0-20261030222936-bef5c4ba774d "bash scripts/install-lambda-rie.sh"
