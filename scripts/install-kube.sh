#!/usr/bin/env bash
# Installs the real Kubernetes control plane the Kubernetes tests run against: kube-apiserver,
# kube-controller-manager and kube-scheduler, built from the Go module proxy into .tools/bin, and
# etcd from Debian (etcd-server) when it is missing. Idempotent: does nothing when the pinned
# version is already built (the stamp .tools/kube.version). Concurrent runs wait for each other.
#
# `go install k8s.io/kubernetes/cmd/...@v1.37.2` is refused (k8s.io/kubernetes replaces its
# staging modules with local paths), so this builds from a small wrapper module that requires
# k8s.io/kubernetes and replaces each staging module (k8s.io/api, k8s.io/apimachinery, ...) with
# its published k8s.io/<name> v0.37.2. About 6 minutes and 2.9 GB of memory from a cold Go build
# cache on 2 cores; the binaries are stripped. See docs/testing-cloud.md.
set -euo pipefail

VERSION="v1.37.2"
STAGING_VERSION="v0.${VERSION#v1.}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
BIN_DIR="$TOOLS/bin"
STAMP="$TOOLS/kube.version"
BUILD_DIR="$TOOLS/kube-build"
COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler)

source "$(dirname "${BASH_SOURCE[0]}")/lib/install-once.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"

binaries_present() {
  for c in "${COMPONENTS[@]}"; do [[ -x "$BIN_DIR/$c" ]] || return 1; done
  return 0
}

ensure_etcd() {
  if command -v etcd >/dev/null 2>&1 || [[ -x /usr/bin/etcd ]]; then return 0; fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: etcd is not installed and apt-get is not available; install etcd 3.4+ on PATH" >&2
    return 1
  fi
  echo "installing etcd (Debian etcd-server)..."
  apt_get install -y -q etcd-server >/dev/null 2>&1 ||
    { apt_get update -q >/dev/null 2>&1 && apt_get install -y -q etcd-server >/dev/null; } || {
    echo "error: could not install etcd-server with apt-get; install etcd 3.4+ on PATH" >&2
    return 1
  }
}

ensure_etcd

build() {
if ! command -v go >/dev/null 2>&1; then
  echo "error: 'go' is not on PATH; install Go 1.25 or newer, then run: bash scripts/install-kube.sh" >&2
  return 1
fi
mkdir -p "$BIN_DIR" "$BUILD_DIR"
echo "building kube-apiserver, kube-controller-manager, kube-scheduler $VERSION into $BIN_DIR"
echo "(Go module proxy; ~6 min and ~3 GB of memory from a cold build cache on 2 cores)..."
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
cd "$BUILD_DIR"
rm -f go.mod go.sum tools.go
cat > go.mod <<EOF
module smelter.local/kube-tools

go 1.25

require k8s.io/kubernetes $VERSION
EOF
cat > tools.go <<'EOF'
//go:build tools

// Package tools pins the Kubernetes control-plane commands this module builds.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
EOF

# k8s.io/kubernetes's own go.mod names its staging modules (`k8s.io/x => ./staging/src/k8s.io/x`).
KUBE_MOD="$(go mod download -json "k8s.io/kubernetes@$VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
if [[ -z "$KUBE_MOD" || ! -f "$KUBE_MOD" ]]; then
  echo "error: could not download k8s.io/kubernetes@$VERSION from the Go module proxy" >&2
  return 1
fi
STAGING=($(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*#\1#p' "$KUBE_MOD" | sort -u))
if [[ ${#STAGING[@]} -lt 10 ]]; then
  echo "error: found only ${#STAGING[@]} staging modules in $KUBE_MOD" >&2
  return 1
fi
for m in "${STAGING[@]}"; do
  echo "replace $m => $m $STAGING_VERSION" >> go.mod
done
go mod tidy
LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=$VERSION"
for c in "${COMPONENTS[@]}"; do
  go build -ldflags "$LDFLAGS" -o "$BIN_DIR/$c.tmp" "k8s.io/kubernetes/cmd/$c"
  mv "$BIN_DIR/$c.tmp" "$BIN_DIR/$c"
done
echo "built ${COMPONENTS[*]} $VERSION in $BIN_DIR (${#STAGING[@]} staging modules replaced)"
}

install_once kube "$VERSION" "$STAMP" binaries_present build
