#!/usr/bin/env bash
# The under-load check: run the tests N times in a row beside two CPU-bound processes (the
# conditions of a busy 2-core CI machine) and print pass/fail per run.
#
#   benchmarks/under_load.sh [RUNS] [pytest args…]
#   make test-under-load RUNS=20                 # the whole `make test`, 20 times
#   make test-under-load RUNS=5 TESTS="tests/test_ble_*.py tests/tui"
#
# Exits non-zero if any run failed. The two busy loops are this script's own children and are
# stopped when it ends, however it ends.
set -u
RUNS=${1:-20}
shift || true
PY=${PY:-.venv/bin/python}
LOG_DIR=${LOG_DIR:-$(mktemp -d -t loadmon-under-load.XXXXXX)}
mkdir -p "$LOG_DIR"

python3 -c 'while 1: pass' & B1=$!
python3 -c 'while 1: pass' & B2=$!
trap 'kill "$B1" "$B2" 2>/dev/null; wait "$B1" "$B2" 2>/dev/null' EXIT INT TERM

failed=0
for i in $(seq "$RUNS"); do
    start=$(date +%s)
    log="$LOG_DIR/run-$i.log"
    if "$PY" -m pytest -q -p no:cacheprovider "$@" >"$log" 2>&1; then
        verdict=pass
    else
        verdict=FAIL
        failed=$((failed + 1))
    fi
    summary=$(grep -E '(passed|failed|error)' "$log" | tail -1)
    printf 'run %2d/%d: %s in %4d s  %s\n' "$i" "$RUNS" "$verdict" "$(( $(date +%s) - start ))" "$summary"
done
echo "$((RUNS - failed)) of $RUNS runs passed beside two busy loops (logs in $LOG_DIR)"
[ "$failed" -eq 0 ]
