#!/bin/sh
# The detached-pod benchmark of issue #5: the resident memory each additional
# detached pod adds beyond its app processes: its share of the shared
# supervisor, plus its pause. Starts 1 pod, reads, then 20, reads; stops and
# removes them all. Needs root and `make` done first.
# usage: sh bench/detached.sh     writes bench/results/detached.{md,json}
set -eu
cd "$(dirname "$0")/.."
unset NODE_EXTRA_CA_CERTS # as in start.sh: not what a user's machine has
OUT=${OUT:-bench/results}
[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
tmp=$(mktemp -d)
state=$tmp/state
minipod="node dist/minipod.cjs --root $state"
cleanup() {
  for id in $($minipod ps -a -o json 2>/dev/null | node -e 'for (const p of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(p.id)'); do
    $minipod rm -f "$id" >/dev/null 2>&1 || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
supervisor() { pgrep -f -- "--root $state supervise"; }
pauses() { $minipod ps -o json | node -e 'for (const p of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(p.pause.pid)'; }

start() { # FROM TO: pods named p<FROM>..p<TO>
  i=$1
  while [ "$i" -le "$2" ]; do $minipod run -d --name "p$i" bench/pods/idle.yaml >/dev/null; i=$((i + 1)); done
}
settle() { sleep 2; } # let the supervisor's heap settle after the starts

start 1 1; settle
sup1=$(rss "$(supervisor)")
start 2 20; settle
sup20=$(rss "$(supervisor)")
pause_total=0
for pid in $(pauses); do pause_total=$((pause_total + $(rss "$pid"))); done
pods=$($minipod ps -o json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).length)')

mkdir -p "$OUT"
node - "$OUT" "$sup1" "$sup20" "$pause_total" "$pods" <<'JS'
const [out, sup1, sup20, pauseTotal, pods] = process.argv.slice(2);
const n = Number(pods);
const perPodSupervisor = (sup20 - sup1) / (n - 1);
const pause = pauseTotal / n;
const perPod = perPodSupervisor + pause;
const target = 10 * 1024;
const r = {
  date: new Date().toISOString().slice(0, 10),
  pods: n, supervisor_rss_kb_1_pod: Number(sup1), supervisor_rss_kb_n_pods: Number(sup20),
  supervisor_share_kb_per_additional_pod: perPodSupervisor, pause_rss_kb_avg: pause,
  per_additional_pod_kb: perPod, target_kb: target, met: perPod <= target,
};
const fs = require('fs');
fs.writeFileSync(`${out}/detached.json`, `${JSON.stringify(r, null, 2)}\n`);
const kb = (x) => `${Math.round(x)} kB`;
fs.writeFileSync(`${out}/detached.md`, [
  '# Detached-pod memory (issue #5)',
  '',
  `Written by \`sh bench/detached.sh\` on ${r.date}: ${n} idle pods (bench/pods/idle.yaml) under one shared supervisor (Node, dist/minipod.cjs).`,
  '',
  '| what | VmRSS |',
  '| --- | ---: |',
  `| shared supervisor, 1 pod | ${kb(r.supervisor_rss_kb_1_pod)} |`,
  `| shared supervisor, ${n} pods | ${kb(r.supervisor_rss_kb_n_pods)} |`,
  `| supervisor share of each additional pod: (${n} pods − 1 pod) / ${n - 1} | ${kb(perPodSupervisor)} |`,
  `| pause, per pod | ${kb(pause)} |`,
  `| **each additional detached pod, beyond its app** | **${kb(perPod)}** (target ≤ 10 MiB: ${r.met ? 'met' : '**missed**'}) |`,
  '',
].join('\n'));
console.log(`per additional pod: ${kb(perPod)} (supervisor ${kb(perPodSupervisor)} + pause ${kb(pause)})`);
JS
