#!/bin/sh
# The concurrency benchmark of issue #7: PODS (default 100) pods started at
# once (`minipod run -d` in parallel, one process each), timed until every one
# has returned, i.e. every pod is running (checked with `ps` after); then all
# stopped at once (`minipod stop` in parallel) and removed (`minipod rm` in
# parallel), timed until every one is gone (no pod in `ps -a`, no pause
# left, the shared supervisor exited). REPEAT (default RUNS, 20) times.
# Needs root and `make` done first.
# usage: sh bench/concurrent.sh    writes bench/results/concurrent.{md,json}
#        OUT=DIR PODS=10 REPEAT=1 sh bench/concurrent.sh
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
PODS=${PODS:-100}
REPEAT=${REPEAT:-${RUNS:-20}}
pods_setup

all() { # VERB ARGS...: `minipod VERB ARGS c<i>` for every pod at once; prints the failures
  : >"$tmp/failed"
  i=1
  while [ "$i" -le "$PODS" ]; do
    { "$@" "c$i" >/dev/null 2>"$tmp/err.$i" || { echo "c$i: $(head -1 "$tmp/err.$i")" >>"$tmp/failed"; }; } &
    i=$((i + 1))
  done
  wait
  cat "$tmp/failed"
}

: >"$tmp/runs.tsv"
rep=1
while [ "$rep" -le "$REPEAT" ]; do
  t0=$(now)
  # `run -d` takes the pod's name last: the manifest comes before it here.
  i=1
  : >"$tmp/failed"
  while [ "$i" -le "$PODS" ]; do
    { $minipod run -d --name "c$i" bench/pods/term.yaml >/dev/null 2>"$tmp/err.$i" ||
      echo "c$i: $(head -1 "$tmp/err.$i")" >>"$tmp/failed"; } &
    i=$((i + 1))
  done
  wait
  t1=$(now)
  start_failed=$(wc -l <"$tmp/failed")
  [ "$start_failed" = 0 ] || { echo "bench: run -d failed for $start_failed pods:" >&2; head -5 "$tmp/failed" >&2; }
  running=$(pod_count)
  pauses=$(pgrep -x pause -P "$(pgrep -f -- "--root $state supervise")" | wc -l)
  t2=$(now)
  stop_failures=$(all $minipod stop | wc -l)
  t3=$(now)
  rm_failures=$(all $minipod rm | wc -l)
  t4=$(now)
  # Gone: nothing in ps -a, and the supervisor (with every pause) exited.
  wait_supervisor_gone "$state"
  t5=$(now)
  left=$(pod_count -a)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" \
    "$((start_failed + stop_failures + rm_failures))" "$running" "$pauses" "$left" >>"$tmp/runs.tsv"
  echo "bench: $PODS pods at once, run $rep: all running after $(awk "BEGIN { print $t1 - $t0 }") s, all gone $(awk "BEGIN { print $t5 - $t2 }") s after stop" >&2
  rep=$((rep + 1))
done

mkdir -p "$OUT"
node - "$OUT" "$tmp/runs.tsv" "$PODS" "$(nproc)" <<'JS'
const fs = require('fs');
const [out, file, pods, nproc] = process.argv.slice(2);
const runs = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => {
  const [rep, t0, t1, t2, t3, t4, t5, failures, running, pauses, left] = line.split('\t').map(Number);
  return {
    rep, all_running_s: t1 - t0, all_stopped_s: t3 - t2, all_removed_s: t4 - t2, all_gone_s: t5 - t2,
    failures, running_after_start: running, pauses_after_start: pauses, left_after_rm: left,
  };
});
const stat = (key) => {
  const xs = runs.map((r) => r[key]).sort((a, b) => a - b);
  const mid = xs.length >> 1;
  return { median_s: xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2, min_s: xs[0], max_s: xs.at(-1) };
};
const r = {
  date: new Date().toISOString(), pods: Number(pods), nproc: Number(nproc), repeat: runs.length,
  all_running: stat('all_running_s'), all_stopped: stat('all_stopped_s'), all_gone: stat('all_gone_s'),
  ok: runs.every((x) => x.failures === 0 && x.running_after_start === Number(pods) && x.pauses_after_start === Number(pods) && x.left_after_rm === 0),
  runs,
};
fs.writeFileSync(`${out}/concurrent.json`, `${JSON.stringify(r, null, 2)}\n`);
const s = (x) => `${x.median_s.toFixed(2)} s (${x.min_s.toFixed(2)}–${x.max_s.toFixed(2)})`;
const md = [
  '# Pods started at once (issue #7)',
  '',
  `Written by \`sh bench/concurrent.sh\` on ${r.date.slice(0, 10)}: ${r.pods} pods (bench/pods/term.yaml) started with`,
  `\`minipod run -d\` all at once on ${r.nproc} CPUs, then stopped with \`minipod stop\` all at once and removed with`,
  `\`minipod rm\` all at once; median (min–max) of ${r.repeat} runs.`,
  '',
  '| what | time |',
  '| --- | ---: |',
  `| until every \`run -d\` returned (every pod running) | ${s(r.all_running)} |`,
  `| from the stops until every \`stop\` returned | ${s(r.all_stopped)} |`,
  `| from the stops until all are gone (\`rm\` returned, no pause, supervisor exited) | ${s(r.all_gone)} |`,
  '',
  r.ok ? `Every run: no command failed, ${r.pods} pods and pauses running after the starts, none left after rm.`
    : `**Not every run was clean**: ${JSON.stringify(runs.filter((x) => x.failures || x.left_after_rm))}`,
  '',
].join('\n');
fs.writeFileSync(`${out}/concurrent.md`, md);
process.stdout.write(md);
JS
