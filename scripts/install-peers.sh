#!/usr/bin/env bash
# Installs the Python peers of the Query 2 benchmark (Polars, DataFusion, chDB, Lithops with its
# localhost executor, Dask dataframe with its distributed LocalCluster, Daft) into a venv at
# .tools/peers, and smallpond (with Ray) into its own venv at .tools/peers-smallpond (it pins
# pyarrow 16 and polars 0.20, which the others' versions do not fit), from PyPI only. Idempotent:
# a peer whose pinned version is already in its venv is skipped. A peer that cannot be installed
# here is reported and skipped (exit 0): the benchmark then marks it "unavailable: <reason>"
# (bench/_peers.ts). Writes .tools/peers/peers.json: {python, peers: {name: {version | unavailable,
# python}}, installSeconds}. See docs/bench-peers.md.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/peers"
STATUS="$VENV/peers.json"
LOGDIR="$VENV/install-logs"

# name|venv under .tools|pip requirements (pinned: the versions the recorded numbers were measured
# with; the first requirement is the peer's own package). smallpond 0.15.0 asks for duckdb>=1.2 but
# imports duckdb.typing, which DuckDB 1.5 removed: 1.4.4 is the newest it runs with.
PEERS=(
  "polars|peers|polars==2.1.0"
  "datafusion|peers|datafusion==55.0.0"
  "chdb|peers|chdb==4.4.0"
  "lithops|peers|lithops==3.8.0"
  "dask|peers|dask[dataframe,distributed]==2026.8.0"
  "daft|peers|daft==0.7.26"
  "smallpond|peers-smallpond|smallpond==0.15.0 duckdb==1.4.4"
)
# PEERS_UNPINNED=1 takes the newest of each from PyPI.
if [[ "${PEERS_UNPINNED:-0}" == "1" ]]; then
  PEERS=("polars|peers|polars" "datafusion|peers|datafusion" "chdb|peers|chdb" "lithops|peers|lithops"
    "dask|peers|dask[dataframe,distributed]" "daft|peers|daft" "smallpond|peers-smallpond|smallpond duckdb<1.5")
fi

PYTHON="${PEERS_PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON is not on PATH; install Python 3.10+ (the peers need it), then run: npm run setup:peers" >&2
  exit 1
fi

start_all=$(date +%s.%N)
# make_venv DIR: creates the venv once (its seconds in DIR/.venv-seconds); fails with a message.
make_venv() {
  local dir="$1" t0
  [[ -x "$dir/bin/python" ]] && return 0
  echo "creating venv $dir ..."
  t0=$(date +%s.%N)
  if ! "$PYTHON" -m venv "$dir"; then
    echo "error: cannot create a venv with $PYTHON -m venv (on Debian: apt-get install python3-venv)" >&2
    return 1
  fi
  "$dir/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }' >"$dir/.venv-seconds"
}
make_venv "$VENV" || exit 1
mkdir -p "$LOGDIR"

declare -A RESULT
for entry in "${PEERS[@]}"; do
  IFS='|' read -r name venv reqs <<<"$entry"
  dir="$ROOT/.tools/$venv"
  py="$dir/bin/python"
  first="${reqs%% *}"
  want=""
  [[ "$first" == *"=="* ]] && want="${first##*==}"
  if ! make_venv "$dir"; then
    RESULT[$name]="{\"unavailable\": \"cannot create the venv $dir\"}"
    continue
  fi
  have="$("$py" -c "import importlib.metadata as m; print(m.version('$name'))" 2>/dev/null || true)"
  if [[ -n "$have" && ( -z "$want" || "$have" == "$want" ) ]]; then
    echo "$name $have already installed"
    if [[ -f "$VENV/.installed-$name.json" ]]; then
      RESULT[$name]="$(cat "$VENV/.installed-$name.json")"
    else
      RESULT[$name]="{\"version\": \"$have\", \"seconds\": null, \"python\": \"$py\"}"
    fi
    continue
  fi
  echo "installing $reqs into $dir ..."
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086 # the requirements are words
  if "$py" -m pip install --disable-pip-version-check $reqs >"$LOGDIR/$name.log" 2>&1; then
    t1=$(date +%s.%N)
    have="$("$py" -c "import importlib.metadata as m; print(m.version('$name'))" 2>/dev/null || true)"
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    echo "  $name $have installed in ${secs} s"
    RESULT[$name]="{\"version\": \"$have\", \"seconds\": $secs, \"python\": \"$py\"}"
    echo "${RESULT[$name]}" >"$VENV/.installed-$name.json"
  else
    # pip's first error line, without the list of every version it could have taken.
    reason="$(grep -E '^(ERROR|error)' "$LOGDIR/$name.log" | grep -v 'yanked' | head -n 1 | sed 's/ (from versions: .*//; s/"/\\"/g; s/[[:space:]]*$//' | cut -c1-400)"
    [[ -z "$reason" ]] && reason="pip install $reqs failed (see $LOGDIR/$name.log)"
    echo "  $name could NOT be installed: $reason (the benchmark marks it unavailable)" >&2
    RESULT[$name]="{\"unavailable\": \"$reason\"}"
  fi
done

end_all=$(date +%s.%N)
total=$(awk -v a="$start_all" -v b="$end_all" 'BEGIN { printf "%.1f", b - a }')
# installSeconds: venv creation plus each peer's pip install, as measured when each was installed
# (a re-run that skips everything keeps the first measurement; thisRunSeconds is this run alone).
venv_secs=0
for f in "$ROOT"/.tools/peers*/.venv-seconds; do
  [[ -f "$f" ]] && venv_secs=$(awk -v a="$venv_secs" -v b="$(cat "$f")" 'BEGIN { printf "%.1f", a + b }')
done
install_total="$venv_secs"
for f in "$VENV"/.installed-*.json; do
  [[ -f "$f" ]] || continue
  s="$(sed -n 's/.*"seconds": \([0-9.]*\).*/\1/p' "$f")"
  [[ -n "$s" ]] && install_total=$(awk -v a="$install_total" -v b="$s" 'BEGIN { printf "%.1f", a + b }')
done
pyver="$("$VENV/bin/python" -c 'import sys; print(sys.version.split()[0])')"
{
  echo "{"
  echo "  \"python\": \"$pyver\","
  echo "  \"installSeconds\": $install_total,"
  echo "  \"venvSeconds\": $venv_secs,"
  echo "  \"thisRunSeconds\": $total,"
  echo "  \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
  echo "  \"peers\": {"
  sep=""
  for entry in "${PEERS[@]}"; do
    name="${entry%%|*}"
    printf '%s    "%s": %s' "$sep" "$name" "${RESULT[$name]}"
    sep=$',\n'
  done
  echo ""
  echo "  }"
  echo "}"
} >"$STATUS"
echo "peers venv: $VENV (python $pyver); this run took ${total} s; status in $STATUS"
