#!/bin/sh
# The detached-pod benchmark of issues #5 and #7: the resident memory that
# minipod adds to each running detached pod beyond its app processes: its
# share of the shared supervisor, plus its pause. Starts pods one after the
# other up to each count of PODS (default "1 10 50"), reads every process's
# VmRSS once the supervisor has settled, then stops and removes them all.
# Needs root and `make` done first.
# usage: sh bench/detached.sh     writes bench/results/detached.{md,json}
#        OUT=DIR PODS="1 5" sh bench/detached.sh
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
PODS=${PODS:-1 10 50}
SETTLE=${SETTLE:-2}
pods_setup

supervisor() { pgrep -f -- "--root $state supervise"; }

start() { # FROM TO: pods named p<FROM>..p<TO>
  i=$1
  while [ "$i" -le "$2" ]; do $minipod run -d --name "p$i" bench/pods/idle.yaml >/dev/null; i=$((i + 1)); done
}
settle() { sleep "$SETTLE"; } # let the supervisor's heap settle after the starts

: >"$tmp/levels.tsv"
have=0
for n in $PODS; do
  start $((have + 1)) "$n"
  have=$n
  settle
  sup=$(supervisor)
  pause_total=0
  pauses=0
  for pid in $(pause_pids); do
    pause_total=$((pause_total + $(rss "$pid")))
    pauses=$((pauses + 1))
  done
  # Anything else of minipod's alive beside the supervisor and the pauses
  # would count too: every process under the supervisor that is not a pause
  # and not an app (sleep) is listed.
  others=$(ps -e -o ppid=,pid=,comm= | awk -v s="$sup" '$1 == s && $3 != "pause" && $3 != "sleep" { print $3 }' | sort | uniq -c | tr -s ' ' | tr '\n' ';')
  printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$(rss "$sup")" "$pause_total" "$pauses" "${others:-none}" >>"$tmp/levels.tsv"
  echo "bench: $n detached pods: supervisor $(rss "$sup") kB, pauses $pause_total kB" >&2
done

mkdir -p "$OUT"
node - "$OUT" "$tmp/levels.tsv" "$(node --version)" <<'JS'
const fs = require('fs');
const [out, levelsFile, nodeVersion] = process.argv.slice(2);
const levels = fs.readFileSync(levelsFile, 'utf8').trim().split('\n').map((line) => {
  const [pods, supervisor, pauses, pauseCount, others] = line.split('\t');
  return { pods: Number(pods), supervisor_rss_kb: Number(supervisor), pause_rss_kb_total: Number(pauses),
    pauses: Number(pauseCount), other_children_of_supervisor: others };
});
const target = 10 * 1024;
const first = levels[0];
for (const l of levels) {
  // Everything minipod has running for these pods: the supervisor and the pauses.
  l.minipod_rss_kb_total = l.supervisor_rss_kb + l.pause_rss_kb_total;
  l.per_pod_kb_average = l.minipod_rss_kb_total / l.pods;
  l.pause_rss_kb_avg = l.pause_rss_kb_total / l.pods;
  if (l !== first) {
    // What each pod beyond the first adds: the supervisor's growth shared out, plus a pause.
    l.supervisor_share_kb_per_additional_pod = (l.supervisor_rss_kb - first.supervisor_rss_kb) / (l.pods - first.pods);
    l.per_additional_pod_kb = l.supervisor_share_kb_per_additional_pod + l.pause_rss_kb_avg;
  }
}
const additional = levels.filter((l) => l !== first).map((l) => l.per_additional_pod_kb);
const worst = Math.max(...additional);
const r = {
  date: new Date().toISOString(), node: nodeVersion, levels,
  per_additional_pod_kb_max: worst, target_kb: target, met: worst <= target,
};
fs.writeFileSync(`${out}/detached.json`, `${JSON.stringify(r, null, 2)}\n`);
const kb = (x) => (x === undefined ? '' : `${Math.round(x)} kB`);
const md = [
  '# Detached-pod memory (issues #5 and #7)',
  '',
  `Written by \`sh bench/detached.sh\` on ${r.date.slice(0, 10)}: idle pods (bench/pods/idle.yaml, \`sleep 3600\`) started`,
  `one after the other under one shared supervisor (Node ${nodeVersion}, dist/minipod.cjs); VmRSS read`,
  'from /proc/PID/status once the supervisor had settled, at each count of pods.',
  '',
  '| pods | supervisor | pauses (avg) | minipod in all | per pod (avg) | supervisor share of each pod after the first | **each additional pod** |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...levels.map((l) => `| ${l.pods} | ${kb(l.supervisor_rss_kb)} | ${kb(l.pause_rss_kb_avg)} | ${kb(l.minipod_rss_kb_total)} | ${kb(l.per_pod_kb_average)} | ${kb(l.supervisor_share_kb_per_additional_pod)} | ${kb(l.per_additional_pod_kb)} |`),
  '',
  `Each additional detached pod, beyond its app: at most ${kb(worst)} (target ≤ 10 MiB: ${r.met ? 'met' : '**missed**'}).`,
  'The first pod also starts the shared supervisor, which is the "minipod in all" of the first row.',
  `Other children of the supervisor than pauses: ${[...new Set(levels.map((l) => l.other_children_of_supervisor))].join(', ')}.`,
  '',
].join('\n');
fs.writeFileSync(`${out}/detached.md`, md);
process.stdout.write(md);
JS
