#!/usr/bin/env bash
# Installs the Python peers of the Query 2 benchmark (Polars, DataFusion, chDB, Lithops with its
# localhost executor) into a venv at .tools/peers, from PyPI only. Idempotent: a peer whose pinned
# version is already in the venv is skipped. A peer that cannot be installed here is reported and
# skipped (exit 0): the benchmark then marks it "unavailable: <reason>" (bench/_peers.ts).
# Writes .tools/peers/peers.json: {python, peers: {name: {version | unavailable}}, installSeconds}.
# See docs/bench-peers.md.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/peers"
PY="$VENV/bin/python"
STATUS="$VENV/peers.json"
LOGDIR="$VENV/install-logs"

# name=pip requirement (pinned: the versions the recorded numbers were measured with).
PEERS=(
  "polars=polars==2.1.0"
  "datafusion=datafusion==55.0.0"
  "chdb=chdb==4.4.0"
  "lithops=lithops==3.8.0"
)
# Allow overriding pins, e.g. PEERS_UNPINNED=1 to take the newest from PyPI.
if [[ "${PEERS_UNPINNED:-0}" == "1" ]]; then
  PEERS=("polars=polars" "datafusion=datafusion" "chdb=chdb" "lithops=lithops")
fi

PYTHON="${PEERS_PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON is not on PATH; install Python 3.10+ (the peers need it), then run: npm run setup:peers" >&2
  exit 1
fi

start_all=$(date +%s.%N)
if [[ ! -x "$PY" ]]; then
  echo "creating venv $VENV ..."
  if ! "$PYTHON" -m venv "$VENV"; then
    echo "error: cannot create a venv with $PYTHON -m venv (on Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
  "$PY" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
  awk -v a="$start_all" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }' >"$VENV/.venv-seconds"
fi
mkdir -p "$LOGDIR"

declare -A RESULT
for entry in "${PEERS[@]}"; do
  name="${entry%%=*}"
  req="${entry#*=}"
  want=""
  [[ "$req" == *"=="* ]] && want="${req##*==}"
  have="$("$PY" -c "import importlib.metadata as m; print(m.version('$name'))" 2>/dev/null || true)"
  if [[ -n "$have" && ( -z "$want" || "$have" == "$want" ) ]]; then
    echo "$name $have already installed"
    if [[ -f "$VENV/.installed-$name.json" ]]; then
      RESULT[$name]="$(cat "$VENV/.installed-$name.json")"
    else
      RESULT[$name]="{\"version\": \"$have\", \"seconds\": null}"
    fi
    continue
  fi
  echo "installing $req ..."
  t0=$(date +%s.%N)
  if "$PY" -m pip install --disable-pip-version-check "$req" >"$LOGDIR/$name.log" 2>&1; then
    t1=$(date +%s.%N)
    have="$("$PY" -c "import importlib.metadata as m; print(m.version('$name'))" 2>/dev/null || true)"
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    echo "  $name $have installed in ${secs} s"
    RESULT[$name]="{\"version\": \"$have\", \"seconds\": $secs}"
    echo "${RESULT[$name]}" >"$VENV/.installed-$name.json"
  else
    reason="$(grep -E '^(ERROR|error)' "$LOGDIR/$name.log" | head -n 2 | tr '\n' ' ' | sed 's/"/\\"/g; s/[[:space:]]*$//')"
    [[ -z "$reason" ]] && reason="pip install $req failed (see $LOGDIR/$name.log)"
    echo "  $name could NOT be installed: $reason (the benchmark marks it unavailable)" >&2
    RESULT[$name]="{\"unavailable\": \"$reason\"}"
  fi
done

end_all=$(date +%s.%N)
total=$(awk -v a="$start_all" -v b="$end_all" 'BEGIN { printf "%.1f", b - a }')
# installSeconds: venv creation plus each peer's pip install, as measured when each was installed
# (a re-run that skips everything keeps the first measurement; thisRunSeconds is this run alone).
venv_secs="$(cat "$VENV/.venv-seconds" 2>/dev/null || echo 0)"
install_total="$venv_secs"
for f in "$VENV"/.installed-*.json; do
  [[ -f "$f" ]] || continue
  s="$(sed -n 's/.*"seconds": \([0-9.]*\).*/\1/p' "$f")"
  [[ -n "$s" ]] && install_total=$(awk -v a="$install_total" -v b="$s" 'BEGIN { printf "%.1f", a + b }')
done
pyver="$("$PY" -c 'import sys; print(sys.version.split()[0])')"
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
    name="${entry%%=*}"
    printf '%s    "%s": %s' "$sep" "$name" "${RESULT[$name]}"
    sep=$',\n'
  done
  echo ""
  echo "  }"
  echo "}"
} >"$STATUS"
echo "peers venv: $VENV (python $pyver); this run took ${total} s; status in $STATUS"
