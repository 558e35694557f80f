#!/bin/sh
# `make bench`: every benchmark of issues #7 and #11 in one run, then BENCHMARKS.md.
# Installs what it compares against from Debian's packages when missing.
# Needs root and `make` done first.
# usage: sh bench/run.sh                    writes bench/results/ and BENCHMARKS.md
#        RUNS=3 OUT=DIR sh bench/run.sh     a quick run into DIR (BENCHMARKS.md
#                                           there too), the committed ones left alone
# RUNS (default 20): repetitions of each timed command. The parts take their
# own sizes: PODS_DETACHED (default "1 10 50"), PODS_CONCURRENT (100), MIB (200),
# PULL_MIB (100: the pulled images).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
[ "$(id -u)" = 0 ] || { echo "bench: run as root (pods, crun and runc need it)" >&2; exit 1; }
need_all
export RUNS=${RUNS:-20}
export OUT=${OUT:-bench/results}
mkdir -p "$OUT"
if [ "$OUT" = bench/results ]; then md=BENCHMARKS.md; else md=$OUT/BENCHMARKS.md; fi
began=$(date +%s)
step() { echo "== bench: $1 ($(($(date +%s) - began)) s in)" >&2; }
step "start-up (bench/start.sh)"
sh bench/start.sh >/dev/null
step "memory of detached pods (bench/detached.sh)"
PODS=${PODS_DETACHED:-1 10 50} sh bench/detached.sh >/dev/null
step "pods started at once (bench/concurrent.sh)"
PODS=${PODS_CONCURRENT:-100} sh bench/concurrent.sh >/dev/null
step "log throughput (bench/logs.sh)"
MIB=${MIB:-200} sh bench/logs.sh >/dev/null
step "pulls (bench/pull.sh)"
sh bench/pull.sh >/dev/null
step "summary (bench/summary.mjs)"
node bench/summary.mjs "$OUT" "$md"
echo "bench: done in $(($(date +%s) - began)) s" >&2
