# Sourced by the install scripts of Go test tools: `go install MODULE@VERSION` into .tools/bin,
# once per pinned version (a stamp .tools/NAME.version), one build at a time (a lock: a second run
# waits for the first, then finds the stamp). Usage: go_install_tool NAME BINARY MODULE VERSION HINT
go_install_tool() {
  local name="$1" binary="$2" module="$3" version="$4" hint="$5"
  local root bin_dir stamp
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  bin_dir="$root/.tools/bin"
  stamp="$root/.tools/$name.version"
  installed() { [[ -x "$bin_dir/$binary" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; }
  if installed; then
    echo "$name $version already installed in $bin_dir"
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "error: 'go' is not on PATH; install Go 1.24 or newer, then run: $hint" >&2
    return 1
  fi
  mkdir -p "$bin_dir"
  exec 9>"$root/.tools/$name.lock"
  flock 9
  if installed; then
    echo "$name $version already installed in $bin_dir"
    return 0
  fi
  echo "installing $name $version into $bin_dir (go install through the Go module proxy; a few minutes on 2 cores the first time)..."
  local start
  start=$(date +%s)
  GOBIN="$bin_dir" GOFLAGS="${GOFLAGS:--buildvcs=false}" go install "$module@$version"
  echo "$version" > "$stamp"
  echo "installed $bin_dir/$binary in $(( $(date +%s) - start )) s"
}
