#!/bin/sh
# The benchmark harness in short, for CI (test/run-all.sh runs it when CI=true
# or MINIPOD_BENCH_SMOKE=1): every part with 3 repetitions and small sizes,
# into a temp dir (never over bench/results), then a check that every figure
# is in summary.json. Shows that the harness works; its figures mean little.
# Reports `bench:smoke: N passed, N failed, 0 skipped`, one case a part, to
# $MINIPOD_TEST_RESULTS as test/run.ts does.
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export OUT=$out RUNS=3
passed=0
failed=0
case_() { # NAME COMMAND...
  name=$1; shift
  began=$(date +%s)
  if "$@" >"$out/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "  ok    $name ($(($(date +%s) - began)) s)"
  else
    failed=$((failed + 1)); echo "  FAIL  $name ($(($(date +%s) - began)) s):"; tail -20 "$out/$name.log" | sed 's/^/    /'
  fi
}
[ "$(id -u)" = 0 ] || { echo "bench:smoke: needs root"; exit 1; }
need_all
case_ start sh bench/start.sh
case_ detached env PODS="1 5" sh bench/detached.sh
case_ concurrent env PODS=20 sh bench/concurrent.sh
case_ logs env MIB=20 sh bench/logs.sh
case_ pull env PULL_MIB=20 sh bench/pull.sh
case_ summary node bench/summary.mjs "$out"
case_ figures node bench/summary.mjs --check "$out"
cat "$out/figures.log"
echo "bench:smoke: $passed passed, $failed failed, 0 skipped"
[ -z "${MINIPOD_TEST_RESULTS:-}" ] ||
  echo "{\"label\":\"bench:smoke\",\"passed\":$passed,\"failed\":$failed,\"skipped\":0}" >>"$MINIPOD_TEST_RESULTS"
[ "$failed" = 0 ]
