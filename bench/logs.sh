#!/bin/sh
# The log-throughput benchmark of issue #7: a container writing MIB (default
# 200) MiB of log lines to its stdout, which the shared supervisor of a
# detached pod turns into a CRI log file, against the same program in the same
# image writing them straight to a file (a hostPath directory on the same
# filesystem as the logs). The workload is line-oriented, as logs are:
# busybox `yes` repeating one 99-character log line (100 bytes with its
# newline) through `head -n`, then a last line `END`. The two are
# interleaved, REPEAT (default RUNS, 20) times each. Meanwhile the supervisor's
# VmRSS is sampled every 50 ms: it should stay flat.
# Needs root and `make` done first.
# usage: sh bench/logs.sh        writes bench/results/logs.{md,json}
#        OUT=DIR MIB=20 REPEAT=1 sh bench/logs.sh
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
MIB=${MIB:-200}
REPEAT=${REPEAT:-${RUNS:-20}}
pods_setup

lines=$((MIB * 1048576 / 100))
line=$(printf '%-99s' '2026-01-01T12:00:00.000Z INFO  request done method=GET path=/api/v1/items/4711 status=200 took=3ms')
mkdir -p "$tmp/direct"
# One manifest for each: the same image, program and lines.
pod() { # NAME REDIRECT [VOLUME YAML]
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  restartPolicy: Never
  containers:
    - name: writer
      image: busybox
      command: ["/bin/sh", "-c", "yes \"\$LINE\" | head -n $lines $2; echo END $2"]
      env:
        - { name: LINE, value: "$line" }
$3
YAML
}
pod bench-logs-cri '' '' >"$tmp/cri.yaml"
pod bench-logs-direct '>>/out/data' "      volumeMounts: [{ name: out, mountPath: /out }]
  volumes: [{ name: out, hostPath: { path: $tmp/direct, type: Directory } }]" >"$tmp/direct.yaml"

# An idle pod keeps the shared supervisor up across the runs, as on a node.
$minipod run -d --name anchor bench/pods/idle.yaml >/dev/null
sup=$(pgrep -f -- "--root $state supervise")

: >"$tmp/runs.jsonl"
rep=1
while [ "$rep" -le "$REPEAT" ]; do
  for kind in direct cri; do
    if [ $kind = cri ]; then
      file="$state/logs/default_logs-cri-${rep}_*/writer/0.log"
    else
      file=$tmp/direct/data
    fi
    node bench/logs-wait.mjs "$file" "$sup" 300 >"$tmp/wait.json" &
    waiter=$!
    $minipod run -d --name "logs-$kind-$rep" "$tmp/$kind.yaml" >/dev/null
    wait "$waiter"
    # The file holds every line: the count of records (or lines), and the last.
    path=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).path' "$tmp/wait.json")
    count=$(wc -l <"$path")
    last=$(tail -n 1 "$path")
    node -e '
      const [file, kind, rep, count, last] = process.argv.slice(1);
      const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
      console.log(JSON.stringify({ kind, rep: Number(rep), ...r, lines: Number(count), last }));
    ' "$tmp/wait.json" "$kind" "$rep" "$count" "$last" >>"$tmp/runs.jsonl"
    $minipod rm -f "logs-$kind-$rep" >/dev/null
    rm -rf "$path" "$state/logs"/default_logs-cri-"$rep"_*
    echo "bench: logs, $kind, run $rep: $(tail -1 "$tmp/runs.jsonl" | node -p 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); r.seconds.toFixed(2) + " s, supervisor " + r.supervisor_rss_kb.min + "-" + r.supervisor_rss_kb.max + " kB"')" >&2
  done
  rep=$((rep + 1))
done

mkdir -p "$OUT"
node - "$OUT" "$tmp/runs.jsonl" "$MIB" "$lines" "$line" <<'JS'
const fs = require('fs');
const [out, file, mib, lines, line] = process.argv.slice(2);
const runs = fs.readFileSync(file, 'utf8').trim().split('\n').map(JSON.parse);
const payload = Number(mib) * 1048576; // what the program writes, END aside
for (const r of runs) r.mib_per_s = payload / 1048576 / r.seconds;
const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s.at(-1) };
};
const of = (kind) => runs.filter((r) => r.kind === kind);
const direct = stat(of('direct').map((r) => r.mib_per_s));
const cri = stat(of('cri').map((r) => r.mib_per_s));
const ratio = cri.median / direct.median;
// Flat: the supervisor's VmRSS does not grow with what is written. Its heap
// grows once to a working size in the first quarter of the first run; so,
// for each CRI run: max − min in all, and over its last three quarters; and
// from the end of the first run to the end of the last.
const FLAT_KB = 4096;
for (const r of of('cri')) {
  const s = r.supervisor_rss_kb.every_50ms;
  const steady = s.slice(Math.floor(s.length / 4));
  r.supervisor_rss_kb.range = r.supervisor_rss_kb.max - r.supervisor_rss_kb.min;
  r.supervisor_rss_kb.steady_range = Math.max(...steady) - Math.min(...steady);
}
const cris = of('cri');
const growth = Math.max(...cris.map((r) => r.supervisor_rss_kb.range));
const steadyRange = Math.max(...cris.map((r) => r.supervisor_rss_kb.steady_range));
const acrossRuns = cris.at(-1).supervisor_rss_kb.last - cris[0].supervisor_rss_kb.last;
const flat = steadyRange <= FLAT_KB && acrossRuns <= FLAT_KB;
const complete = of('cri').every((r) => r.lines === Number(lines) + 1 && / stdout F END$/.test(r.last))
  && of('direct').every((r) => r.lines === Number(lines) + 1 && r.last === 'END');
const r = {
  date: new Date().toISOString(), mib: Number(mib), lines: Number(lines), line_bytes: line.length + 1, repeat: of('cri').length,
  direct_mib_per_s: direct, cri_mib_per_s: cri, cri_vs_direct: ratio, target_ratio: 0.5, met: ratio >= 0.5,
  supervisor_rss_kb: {
    before: cris[0].supervisor_rss_kb.first, after_first_run: cris[0].supervisor_rss_kb.last, after_last_run: cris.at(-1).supervisor_rss_kb.last,
    range_max: growth, steady_range_max: steadyRange, across_runs: acrossRuns, flat_within_kb: FLAT_KB, flat,
  },
  complete, runs,
};
fs.writeFileSync(`${out}/logs.json`, `${JSON.stringify(r, null, 2)}\n`);
const f = (x) => `${x.median.toFixed(1)} MiB/s (${x.min.toFixed(1)}–${x.max.toFixed(1)})`;
const md = [
  '# Log throughput (issue #7)',
  '',
  `Written by \`sh bench/logs.sh\` on ${r.date.slice(0, 10)}: a container of a detached pod writes ${r.mib} MiB of log lines`,
  `(${r.lines} lines of ${r.line_bytes} bytes: busybox \`yes LINE | head -n ${r.lines}\`, then \`echo END\`) to its stdout,`,
  'which the shared supervisor writes into its CRI log file; against the same command in the same image',
  'writing to a file of a hostPath directory on the same filesystem. Timed from the file\'s appearance to',
  `its last line; median (min–max) of ${r.repeat} runs each, interleaved.`,
  '',
  '| what | rate |',
  '| --- | ---: |',
  `| straight to a file | ${f(direct)} |`,
  `| stdout, into the CRI log file | ${f(cri)} |`,
  `| **CRI log vs straight to a file** | **${(ratio * 100).toFixed(0)}%** (target ≥ 50%: ${r.met ? 'met' : '**missed**'}) |`,
  `| supervisor VmRSS before the first CRI run → after it → after the last | ${r.supervisor_rss_kb.before} → ${r.supervisor_rss_kb.after_first_run} → ${r.supervisor_rss_kb.after_last_run} kB |`,
  `| supervisor VmRSS during a CRI run, max − min (worst run) | ${growth} kB |`,
  `| same, over the last three quarters of each run (worst run) | ${steadyRange} kB |`,
  `| **supervisor memory flat** (≤ ${FLAT_KB} kB over the last three quarters of every run, and from the first run's end to the last's) | ${flat ? 'met' : '**missed**'} |`,
  '',
  complete ? 'Every file held every line, the last one `END`.' : '**Some file lacked lines**: see logs.json.',
  '',
  'VmRSS of the supervisor, sampled every 50 ms, is in logs.json. It grows once, early in the first',
  'run, while V8 enlarges its heap (its young generation) for the allocation rate, then stays level',
  'however much more is written.',
  '',
].join('\n');
fs.writeFileSync(`${out}/logs.md`, md);
process.stdout.write(md);
JS
