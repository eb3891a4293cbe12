# Sourced by the install scripts of Go test tools: `go install MODULE@VERSION` into .tools/bin,
# once per pinned version (see install-once.sh). Usage: go_install_tool NAME BINARY MODULE VERSION HINT
source "$(dirname "${BASH_SOURCE[0]}")/install-once.sh"

go_install_tool() {
  GO_TOOL_NAME="$1" GO_TOOL_BINARY="$2" GO_TOOL_MODULE="$3" GO_TOOL_VERSION="$4"
  local hint="$5"
  GO_TOOL_BIN_DIR="$TOOLS_ROOT/.tools/bin"
  go_tool_present() { [[ -x "$GO_TOOL_BIN_DIR/$GO_TOOL_BINARY" ]]; }
  go_tool_build() {
    if ! command -v go >/dev/null 2>&1; then
      echo "error: 'go' is not on PATH; install Go 1.24 or newer, then run: $hint" >&2
      return 1
    fi
    mkdir -p "$GO_TOOL_BIN_DIR"
    echo "installing $GO_TOOL_NAME $GO_TOOL_VERSION into $GO_TOOL_BIN_DIR (go install through the Go module proxy; a few minutes on 2 cores the first time)..."
    GOBIN="$GO_TOOL_BIN_DIR" GOFLAGS="${GOFLAGS:--buildvcs=false}" go install "$GO_TOOL_MODULE@$GO_TOOL_VERSION"
  }
  install_once "$GO_TOOL_NAME" "$GO_TOOL_VERSION" "$TOOLS_ROOT/.tools/$GO_TOOL_NAME.version" go_tool_present go_tool_build
}
