// Turns what bench/start.sh measured into start.json and start.md.
// usage: node bench/report.mjs RAW_DIR OUT_DIR
// RAW_DIR holds hyperfine's JSON (host-N.json and private-N.json for round N:
// the latter ran in a private mount namespace), the commands measured
// (host.tsv, private.tsv: "ID<TAB>COMMAND") and facts.tsv
// ("KEY<TAB>VALUE": machine, versions, VmRSS in kB, sizes in bytes).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [raw, out] = process.argv.slice(2);
if (!raw || !out) throw new Error('usage: node bench/report.mjs RAW_DIR OUT_DIR');

const LABELS = {
  'node-floor': 'node -e 0',
  'deno-floor': 'deno eval 0',
  crun: 'crun run, /bin/true',
  runc: 'runc run, /bin/true',
  bwrap: 'bwrap --unshare-all, /bin/true',
  unshare: 'unshare -fmnipu --mount-proc /bin/true (host root)',
  'node-1': 'minipod run (Node), 1 container',
  'node-10': 'minipod run (Node), 10 containers',
  'deno-1': 'minipod run (Deno), 1 container',
  'deno-10': 'minipod run (Deno), 10 containers',
  'node-limits-1': 'minipod run (Node), 1 container with cpu and memory limits',
  'node-limits-1-nocgroups': 'same, --cgroup-manager disabled',
  'node-limits-10': 'minipod run (Node), 10 containers with cpu and memory limits',
  'node-limits-10-nocgroups': 'same, --cgroup-manager disabled',
};
const FLOOR = {
  'node-1': 'node-floor', 'node-10': 'node-floor', 'deno-1': 'deno-floor', 'deno-10': 'deno-floor',
  'node-limits-1': 'node-floor', 'node-limits-1-nocgroups': 'node-floor',
  'node-limits-10': 'node-floor', 'node-limits-10-nocgroups': 'node-floor',
};
const NODE_RATIO_TARGET = 1.6;
const CGROUP_TARGET_MS = 5;
const PAUSE_RSS_TARGET_KB = 1024;

const tsv = (file) =>
  readFileSync(join(raw, file), 'utf8').split('\n').filter(Boolean).map((line) => {
    const tab = line.indexOf('\t');
    return [line.slice(0, tab), line.slice(tab + 1)];
  });
const facts = Object.fromEntries(tsv('facts.tsv'));
// The temp dir differs each run: show it as $TMP so commands read the same.
const tidy = (command) => command.replaceAll(facts.tmp, '$TMP');

// Each round's hyperfine JSON holds a few runs of every command: pool them.
const times = {};
const commands = {};
const round = (file) => Number(file.match(/^(?:host|private)-(\d+)\.json$/)?.[1]);
for (const file of readdirSync(raw).filter(round).sort((a, b) => round(a) - round(b))) {
  for (const r of JSON.parse(readFileSync(join(raw, file), 'utf8')).results) {
    (times[r.command] ??= []).push(...r.times.map((t) => t * 1000));
  }
}
for (const part of ['host', 'private']) Object.assign(commands, Object.fromEntries(tsv(`${part}.tsv`)));

const measured = {};
for (const [id, ms] of Object.entries(times)) {
  const sorted = [...ms].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  measured[id] = {
    label: LABELS[id] ?? id,
    command: tidy(commands[id]),
    median_ms: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2,
    min_ms: sorted[0],
    max_ms: sorted.at(-1),
    runs: ms.length,
    // Every run, round after round: shows the machine's fast and slow spells.
    times_ms: ms.map((t) => Math.round(t * 100) / 100),
  };
}

// In LABELS' order: the floors, crun, then minipod.
const benchmarks = Object.fromEntries(Object.keys(LABELS).map((id) => [id, measured[id]]));
const median = (id) => benchmarks[id].median_ms;

for (const [id, b] of Object.entries(benchmarks)) {
  if (FLOOR[id]) b.vs_floor = median(id) / median(FLOOR[id]);
  if (id !== 'crun') b.vs_crun = median(id) / median('crun');
}

// One more container costs the difference between the two pods over the
// nine containers added; the issue allows at most one `crun run`.
const marginal = {};
for (const runtime of ['node', 'deno']) {
  const per = (median(`${runtime}-10`) - median(`${runtime}-1`)) / 9;
  marginal[runtime] = { per_container_ms: per, target_ms: median('crun'), met: per <= median('crun') };
}

// What cgroups add: the same limited pods with and without them. For one
// container, that is the whole per-pod cost (the pod's, the pause's and the
// container's cgroups); from one container to ten, the cost of each further
// container; over ten, the average a container of the ten-container pod pays.
const cgroupsPod1 = median('node-limits-1') - median('node-limits-1-nocgroups');
const cgroupsPod10 = median('node-limits-10') - median('node-limits-10-nocgroups');
const cgroupsPerContainer = (cgroupsPod10 - cgroupsPod1) / 9;
marginal.cgroups = {
  one_container_pod_ms: cgroupsPod1, ten_container_pod_ms: cgroupsPod10,
  per_container_ms: cgroupsPerContainer, average_of_ten_ms: cgroupsPod10 / 10,
  // Per container: a one-container pod's one container pays all of it.
  target_ms: CGROUP_TARGET_MS,
  met: cgroupsPod1 < CGROUP_TARGET_MS && cgroupsPerContainer < CGROUP_TARGET_MS && cgroupsPod10 / 10 < CGROUP_TARGET_MS,
};

const kb = (key) => Number(facts[key]);
const memory = {
  pause_node_kb: kb('node.pause'),
  pause_deno_kb: kb('deno.pause'),
  catatonit_kb: kb('catatonit'),
  supervisor_node_kb: kb('node.supervisor'),
  supervisor_deno_kb: kb('deno.supervisor'),
  pause_size_bytes: kb('pause.size'),
  catatonit_size_bytes: kb('catatonit.size'),
};

const nodeRatio = benchmarks['node-1'].vs_floor;
const pauseRss = Math.max(memory.pause_node_kb, memory.pause_deno_kb);
const targets = [
  { target: `minipod run (Node), 1 container <= ${NODE_RATIO_TARGET}x node -e 0`,
    value: `${nodeRatio.toFixed(3)}x`, met: nodeRatio <= NODE_RATIO_TARGET },
  ...['node', 'deno'].map((runtime) => ({
    target: `extra container (${runtime === 'node' ? 'Node' : 'Deno'}) <= one crun run (${fmt(median('crun'))} ms)`,
    value: `${fmt(marginal[runtime].per_container_ms)} ms`, met: marginal[runtime].met,
  })),
  { target: 'pause VmRSS <= 1 MiB', value: `${pauseRss} kB`, met: pauseRss <= PAUSE_RSS_TARGET_KB },
  { target: `cgroups per container (Node) < ${CGROUP_TARGET_MS} ms (a one-container pod, each further container, and the average over ten)`,
    value: `${fmt(cgroupsPod1)} ms, ${fmt(cgroupsPerContainer)} ms, ${fmt(cgroupsPod10 / 10)} ms`, met: marginal.cgroups.met },
];

const machine = {
  nproc: Number(facts.nproc), kernel: facts.kernel, cpu: facts.cpu, memory: facts.memory, loadavg: facts.loadavg,
  node_extra_ca_certs_in_caller: facts.ca_env,
};
const versions = Object.fromEntries(
  ['node', 'deno', 'crun', 'runc', 'bubblewrap', 'util-linux', 'hyperfine', 'busybox'].map((k) => [k, facts[k]]).concat([['catatonit', facts['catatonit.version']]]),
);
const hyperfine = `hyperfine -N --warmup 3 --runs ${facts.per_round} --export-json FILE -n ID 'COMMAND' ...`;
const privateWrapper = `unshare -m --propagation private sh -c 'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' sh ${hyperfine}`;

const result = {
  date: new Date().toISOString(), runs: Number(facts.runs), rounds: Number(facts.rounds), machine, versions,
  harness: { hyperfine, crun_and_runc: privateWrapper }, benchmarks, marginal, memory, targets,
};
writeFileSync(join(out, 'start.json'), JSON.stringify(result, null, 2) + '\n');
writeFileSync(join(out, 'start.md'), markdown(result));
process.stdout.write(markdown(result));

function fmt(ms) {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

function ratio(x) {
  return x === undefined ? '' : `${x.toFixed(2)}x`;
}

function markdown(r) {
  const row = (cells) => `| ${cells.join(' | ')} |`;
  const mark = (met) => (met ? 'met' : '**missed**');
  const b = r.benchmarks;
  return [
    '# Start-up benchmark (issues #2, #4 and #7)',
    '',
    `Written by \`sh bench/start.sh\` on ${r.date.slice(0, 10)}: medians of ${r.runs} runs of each command, with min–max,`,
    `all in one run on the same busybox rootfs. The runs are taken in ${r.rounds} rounds that each run every`,
    'command in turn (after 3 warm-up runs of it), so that the machine\'s slow spells hit all',
    'of them alike. Ratios are of medians.',
    '',
    row(['what', 'median ms', 'min–max ms', 'vs its floor', 'vs crun run']),
    row(['---', '---:', '---:', '---:', '---:']),
    ...Object.entries(b).map(([id, x]) =>
      row([x.label, fmt(x.median_ms), `${fmt(x.min_ms)}–${fmt(x.max_ms)}`, ratio(x.vs_floor), ratio(x.vs_crun)])),
    '',
    'The floor of a Node row is `node -e 0`, of a Deno row `deno eval 0`.',
    '',
    'Every command ran with `NODE_EXTRA_CA_CERTS` unset. Where it is set (the caller had',
    `\`${r.machine.node_extra_ca_certs_in_caller}\`), Node loads that CA bundle at every start, TLS or not, adding ~85 ms`,
    'to `node -e 0` and to minipod alike, which would flatter the ratio.',
    '',
    '## Targets',
    '',
    row(['target', 'measured', '']),
    row(['---', '---:', '---']),
    ...r.targets.map((t) => row([t.target, t.value, mark(t.met)])),
    '',
    'An extra container costs (median of the 10-container pod − median of the 1-container pod) / 9.',
    'What cgroups cost is the median of a limited pod minus the same pod with `--cgroup-manager disabled`:',
    `${fmt(r.marginal.cgroups.one_container_pod_ms)} ms for the 1-container pod (its pod, pause and container cgroups),`,
    `${fmt(r.marginal.cgroups.ten_container_pod_ms)} ms for the 10-container pod; each container after the first:`,
    `(${fmt(r.marginal.cgroups.ten_container_pod_ms)} − ${fmt(r.marginal.cgroups.one_container_pod_ms)}) / 9 = ${fmt(r.marginal.cgroups.per_container_ms)} ms;`,
    `the average over the ten: ${fmt(r.marginal.cgroups.average_of_ten_ms)} ms.`,
    '',
    '## Memory',
    '',
    'VmRSS from /proc/PID/status while a pod runs `sleep 5` (bench/pods/sleep.yaml);',
    'catatonit runs as `catatonit -P`. Sizes are of the binaries on disk. minipod\'s pause',
    '(rootfs/pause/pause.c, static) *is* the Kubernetes-equivalent pause: it does what',
    'Kubernetes\' build/pause/linux/pause.c does (sleep, reap, exit 0 on SIGINT/SIGTERM).',
    '',
    row(['process', 'VmRSS kB', 'binary bytes']),
    row(['---', '---:', '---:']),
    row(['pause (build/pause), Node pod', r.memory.pause_node_kb, r.memory.pause_size_bytes]),
    row(['pause (build/pause), Deno pod', r.memory.pause_deno_kb, r.memory.pause_size_bytes]),
    row([`catatonit -P (${facts['catatonit.path']})`, r.memory.catatonit_kb, r.memory.catatonit_size_bytes]),
    row(['minipod supervisor, Node', r.memory.supervisor_node_kb, '']),
    row(['minipod supervisor, Deno', r.memory.supervisor_deno_kb, '']),
    '',
    '## Machine and versions',
    '',
    `- machine: ${r.machine.nproc} CPUs (${r.machine.cpu}), ${r.machine.memory}, kernel ${r.machine.kernel}; load average ${r.machine.loadavg}`,
    ...Object.entries(r.versions).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Commands',
    '',
    'Each round ran',
    '',
    '```sh',
    r.harness.hyperfine,
    '```',
    '',
    'and crun and runc inside a private mount namespace, because crun refuses this machine\'s hybrid',
    'cgroup layout: cgroup2 mounted over /sys/fs/cgroup there hides the v1 hierarchies, and',
    '`--cgroup-manager=disabled` creates no cgroup. runc cannot run without a cgroup: there it',
    'makes one cgroup2 directory per container and attaches its eBPF device filter (on the v1',
    'hierarchies it would make one in each, slower). Their bundles are each one\'s `spec` default with',
    '`linux.resources` removed (crun cannot load its eBPF device filter here), `terminal: false`,',
    'args `["/bin/true"]` and the busybox rootfs as a read-only root; runc needs no `--no-pivot`.',
    '',
    '```sh',
    r.harness.crun_and_runc,
    '```',
    '',
    'The commands (`$TMP` is the run\'s temp dir, removed at the end):',
    '',
    '```sh',
    ...Object.entries(b).map(([id, x]) => `${id}: ${x.command}`),
    '```',
    '',
  ].join('\n');
}
