# Sourced by the install scripts of test tools. `install_once NAME VERSION STAMP CHECK BUILD`:
# does nothing when CHECK (a function: the tool's files are there) succeeds and STAMP holds
# VERSION; otherwise takes the lock .tools/NAME.lock (a second run waits for the first, then finds
# the stamp), runs BUILD (a function), and writes VERSION to STAMP. Changing a pinned version
# rebuilds on the next run.
TOOLS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

install_once() {
  local name="$1" version="$2" stamp="$3" check="$4" build="$5"
  is_installed() { "$check" && [[ -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; }
  if is_installed; then
    echo "$name $version already installed"
    return 0
  fi
  mkdir -p "$TOOLS_ROOT/.tools"
  exec 9>"$TOOLS_ROOT/.tools/$name.lock"
  flock 9
  if is_installed; then
    echo "$name $version already installed"
    return 0
  fi
  local start
  start=$(date +%s)
  "$build"
  echo "$version" > "$stamp"
  echo "installed $name $version in $(( $(date +%s) - start )) s"
}
