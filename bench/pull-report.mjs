// Turns what bench/pull.sh measured into pull.json and pull.md.
// usage: node bench/pull-report.mjs RAW_DIR OUT_DIR
// RAW_DIR holds hyperfine's JSON (pull-N.json and pods-N.json for round N),
// the commands measured (pull.tsv, pods.tsv: "ID<TAB>PREPARE<TAB>COMMAND"),
// the counting relay's answers (count-base-RUNTIME.json,
// count-next-RUNTIME-N.json), images.json (bench/images.ts) and facts.tsv
// ("KEY<TAB>VALUE": machine, versions, what each unpacked).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [raw, out] = process.argv.slice(2);
if (!raw || !out) throw new Error('usage: node bench/pull-report.mjs RAW_DIR OUT_DIR');

const LABELS = {
  'node-base': 'minipod pull (Node), `base` into an empty store',
  'deno-base': 'minipod pull (Deno), `base` into an empty store',
  'skopeo-umoci': 'skopeo copy docker:// → oci:, then umoci unpack',
  'tar-floor': 'tar -xzf of the 5 layer blobs, one after the other (the floor)',
  'node-next': 'minipod pull (Node), `next` into a store holding `base`',
  'deno-next': 'minipod pull (Deno), `next` into a store holding `base`',
  'pod-node-layered': 'minipod run (Node), /bin/true from `base` (5 layers, present)',
  'pod-node-busybox': 'minipod run (Node), /bin/true from the busybox directory image',
  'pod-deno-layered': 'minipod run (Deno), /bin/true from `base` (5 layers, present)',
  'pod-deno-busybox': 'minipod run (Deno), /bin/true from the busybox directory image',
};
const FLOOR_TARGET = 1.5;
// "No slower" within the noise of two medians of the same command here:
// a copy of the layers instead of an overlay would cost seconds, not this.
const POD_TOLERANCE = 1.05;

const read = (file) => readFileSync(join(raw, file), 'utf8');
const tsv = (file) => read(file).split('\n').filter(Boolean).map((line) => line.split('\t'));
const facts = Object.fromEntries(tsv('facts.tsv').map(([k, ...v]) => [k, v.join('\t')]));
const image = JSON.parse(read('images.json'));
// The temp dir and the registry's port differ each run: shown as $TMP and HOST.
const tidy = (command) => command.replaceAll(facts.tmp, '$TMP').replaceAll(facts.host, 'HOST');

const commands = {};
const prepares = {};
for (const file of ['pull.tsv', 'pods.tsv']) {
  for (const [id, prepare, command] of tsv(file)) {
    commands[id] = command;
    if (prepare !== '-') prepares[id] = prepare;
  }
}
// Each round's hyperfine JSON holds a few runs of every command: pool them.
const times = {};
const round = (file) => Number(file.match(/^(?:pull|pods)-(\d+)\.json$/)?.[1]);
for (const file of readdirSync(raw).filter(round).sort((a, b) => round(a) - round(b))) {
  for (const r of JSON.parse(read(file)).results) (times[r.command] ??= []).push(...r.times.map((t) => t * 1000));
}
const benchmarks = {};
for (const id of Object.keys(LABELS)) {
  const ms = times[id];
  if (!ms) throw new Error(`bench: no times for ${id} in ${raw}`);
  const sorted = [...ms].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  benchmarks[id] = {
    label: LABELS[id],
    command: tidy(commands[id]),
    ...(prepares[id] ? { prepare: tidy(prepares[id]) } : {}),
    median_ms: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2,
    min_ms: sorted[0],
    max_ms: sorted.at(-1),
    runs: ms.length,
    // Every run, round after round: shows the machine's fast and slow spells.
    times_ms: ms.map((t) => Math.round(t * 100) / 100),
  };
}
const median = (id) => benchmarks[id].median_ms;
for (const runtime of ['node', 'deno']) {
  const b = benchmarks[`${runtime}-base`];
  b.vs_floor = b.median_ms / median('tar-floor');
  b.vs_skopeo_umoci = b.median_ms / median('skopeo-umoci');
  benchmarks[`${runtime}-next`].vs_base = median(`${runtime}-next`) / b.median_ms;
  benchmarks[`pod-${runtime}-layered`].vs_busybox = median(`pod-${runtime}-layered`) / median(`pod-${runtime}-busybox`);
}
benchmarks['skopeo-umoci'].vs_floor = median('skopeo-umoci') / median('tar-floor');

// Which layers each counted pull fetched: of the image's layers, the blobs
// it GET (its config is a blob too, and is new in `next`).
const layerSizes = new Map([...image.base.layers, ...image.next.layers].map((l) => [l.digest, l.size]));
const counted = (file, which) => {
  const c = JSON.parse(read(file));
  const layers = image[which].layers.map((l) => l.digest);
  const fetched = c.blob_gets.filter((d) => layers.includes(d));
  return {
    layers_fetched: fetched.length,
    fetched,
    bytes_fetched: fetched.reduce((n, d) => n + layerSizes.get(d), 0),
    blob_gets: c.blob_gets.length,
    requests: c.requests.length,
    // minipod's own account: one line per layer when stderr is not a terminal.
    lines_pulled: c.stderr.split('\n').filter((l) => /: pulled /.test(l)).length,
    lines_already_exist: c.stderr.split('\n').filter((l) => /: already exists$/.test(l)).length,
  };
};
const newLayer = image.next.layers.at(-1).digest;
const next = {
  layers: image.next.layers.length,
  shared_with_base: image.next.layers.filter((l) => image.base.layers.some((b) => b.digest === l.digest)).length,
  new_layer: newLayer,
};
for (const runtime of ['node', 'deno']) {
  const n = (file) => Number(file.match(new RegExp(`^count-next-${runtime}-(\\d+)\\.json$`))?.[1]);
  const each = readdirSync(raw).filter(n).sort((a, b) => n(a) - n(b)).map((f) => counted(f, 'next'));
  next[runtime] = {
    pulls_counted: each.length,
    layers_fetched_max: Math.max(...each.map((c) => c.layers_fetched)),
    only_new_layer: each.every((c) => c.layers_fetched === 1 && c.fetched[0] === newLayer),
    bytes_fetched_max: Math.max(...each.map((c) => c.bytes_fetched)),
    each,
    // The counter's own check: a pull into an empty store fetches every layer.
    base_into_empty_store: counted(`count-base-${runtime}.json`, 'base'),
  };
}
next.met = ['node', 'deno'].every((r) => next[r].only_new_layer && next[r].pulls_counted > 0);

const compressed = image.base.layers.reduce((n, l) => n + l.size, 0);
const unpacked = image.base.layers.reduce((n, l) => n + l.tarSize, 0);
const mib = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;
const x = (r) => `${r.toFixed(2)}×`;
const targets = [
  ...['node', 'deno'].map((runtime) => ({
    id: `pull_vs_skopeo_umoci_${runtime}`,
    target: `pull + unpack (${runtime === 'node' ? 'Node' : 'Deno'}): faster than skopeo copy + umoci unpack`,
    value: `${x(benchmarks[`${runtime}-base`].vs_skopeo_umoci)} (${fmt(median(`${runtime}-base`))} vs ${fmt(median('skopeo-umoci'))} ms)`,
    met: median(`${runtime}-base`) < median('skopeo-umoci'),
  })),
  ...['node', 'deno'].map((runtime) => ({
    id: `pull_vs_floor_${runtime}`,
    target: `pull + unpack (${runtime === 'node' ? 'Node' : 'Deno'}): ≤ ${FLOOR_TARGET}× tar -xzf of the layers`,
    value: `${x(benchmarks[`${runtime}-base`].vs_floor)} (${fmt(median(`${runtime}-base`))} vs ${fmt(median('tar-floor'))} ms)`,
    met: benchmarks[`${runtime}-base`].vs_floor <= FLOOR_TARGET,
  })),
  {
    id: 'next_only_new_layer',
    target: `an image sharing ${next.shared_with_base} of its ${next.layers} layers: only the new layer fetched`,
    value: `${next.node.layers_fetched_max} layer (Node, ${next.node.pulls_counted} pulls), ${next.deno.layers_fetched_max} (Deno, ${next.deno.pulls_counted} pulls), `
      + `${mib(layerSizes.get(newLayer))}; in ${fmt(median('node-next'))} ms (Node), ${fmt(median('deno-next'))} ms (Deno)`,
    met: next.met,
  },
  ...['node', 'deno'].map((runtime) => ({
    id: `pod_layered_vs_busybox_${runtime}`,
    target: `a pod from the 5-layer image (${runtime === 'node' ? 'Node' : 'Deno'}): no slower than from busybox (≤ ${POD_TOLERANCE}×)`,
    value: `${x(benchmarks[`pod-${runtime}-layered`].vs_busybox)} (${fmt(median(`pod-${runtime}-layered`))} vs ${fmt(median(`pod-${runtime}-busybox`))} ms)`,
    met: benchmarks[`pod-${runtime}-layered`].vs_busybox <= POD_TOLERANCE,
  })),
];

const machine = {
  nproc: Number(facts.nproc), kernel: facts.kernel, cpu: facts.cpu, memory: facts.memory, filesystem: facts.filesystem,
  loadavg: facts.loadavg, node_extra_ca_certs_in_caller: facts.ca_env,
};
const versions = Object.fromEntries(['node', 'deno', 'skopeo', 'umoci', 'tar', 'gzip', 'docker-registry', 'hyperfine'].map((k) => [k, facts[k]]));
const result = {
  date: new Date().toISOString(), runs: Number(facts.runs), rounds: Number(facts.rounds), machine, versions,
  image: {
    mib: image.mib, layers: image.base.layers.length, compressed_bytes: compressed, unpacked_tar_bytes: unpacked,
    base: image.base.layers.map(({ digest, size, tarSize }) => ({ digest, size, tarSize })),
    next_new_layer: { digest: newLayer, size: layerSizes.get(newLayer) },
  },
  unpacked: { minipod: facts['unpacked.minipod'], tar: facts['unpacked.tar'], umoci: facts['unpacked.umoci'] },
  harness: {
    pulls: `hyperfine -N --warmup 1 --runs ${facts.per_round} --export-json FILE -n ID --prepare 'PREPARE' 'COMMAND' ...`,
    pods: `hyperfine -N --warmup 3 --runs ${facts.per_round} --export-json FILE -n ID 'COMMAND' ...`,
  },
  benchmarks, next, targets,
};
writeFileSync(join(out, 'pull.json'), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(join(out, 'pull.md'), markdown(result));
process.stdout.write(markdown(result));

/** A sentence when others' work was running as the run began (the load at its start is not ours). */
function busy(machine) {
  const load = Number(machine.loadavg.split(' ')[0]);
  return load >= 0.5
    ? [`The machine was shared: a load average of ${load} on ${machine.nproc} CPUs before the run began (other work, tests of`,
      'other sessions among it), so these times are longer than on an idle machine; the rounds keep the ratios comparable.', '']
    : [];
}

function fmt(ms) {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

function markdown(r) {
  const row = (cells) => `| ${cells.join(' | ')} |`;
  const mark = (met) => (met ? 'met' : '**missed**');
  const b = r.benchmarks;
  const ratio = (v) => (v === undefined ? '' : x(v));
  const line = (id) => row([b[id].label, fmt(b[id].median_ms), `${fmt(b[id].min_ms)}–${fmt(b[id].max_ms)}`]);
  const same = r.unpacked.minipod === r.unpacked.tar && r.unpacked.umoci === r.unpacked.tar;
  const pulls = (rt) => r.next[rt].each.map((c) => c.layers_fetched).join(', ');
  return [
    '# Pull benchmark (issue #11)',
    '',
    `Written by \`sh bench/pull.sh\` on ${r.date.slice(0, 10)}: medians of ${r.runs} runs of each command, with min–max,`,
    `all in one run, taken in ${r.rounds} rounds that each run every command in turn (after warm-up runs of it),`,
    'so that the machine\'s slow spells hit all of them alike. Ratios are of medians.',
    `The image \`base\`: ${r.image.layers} gzip layers, ${mib(r.image.compressed_bytes)} compressed, ${mib(r.image.unpacked_tar_bytes)} of tar`,
    '(the busybox rootfs and pseudo-random files of 1–16 KiB and 256 KiB–2 MiB, half incompressible: bench/images.ts),',
    `served by docker-registry on 127.0.0.1 (plain HTTP), on ${r.machine.filesystem}. Each pull starts from an empty directory`,
    '(or a fresh copy of a store holding `base`), made by hyperfine\'s --prepare with a `sync`, untimed.',
    '',
    '## Pull and unpack of `base` into an empty store',
    '',
    row(['what', 'median ms', 'min–max ms', 'vs tar floor', 'vs skopeo + umoci']),
    row(['---', '---:', '---:', '---:', '---:']),
    ...['node-base', 'deno-base', 'skopeo-umoci', 'tar-floor'].map((id) =>
      row([b[id].label, fmt(b[id].median_ms), `${fmt(b[id].min_ms)}–${fmt(b[id].max_ms)}`, ratio(b[id].vs_floor), ratio(b[id].vs_skopeo_umoci)])),
    '',
    `What each unpacked (regular files): minipod's snapshots ${r.unpacked.minipod}; tar ${r.unpacked.tar}; umoci's rootfs ${r.unpacked.umoci}`,
    same ? '(the same).' : '(**not the same**).',
    '',
    `## \`next\`: ${r.next.shared_with_base} of its ${r.next.layers} layers shared with \`base\``,
    '',
    row(['what', 'median ms', 'min–max ms', 'vs `base` into an empty store']),
    row(['---', '---:', '---:', '---:']),
    ...['node-next', 'deno-next'].map((id) =>
      row([b[id].label, fmt(b[id].median_ms), `${fmt(b[id].min_ms)}–${fmt(b[id].max_ms)}`, ratio(b[id].vs_base)])),
    '',
    'Layers fetched, counted each round by a relay in front of the registry (bench/pull-count.ts: every',
    'GET of a blob of the image; the timed pulls go to the registry itself): Node',
    `${pulls('node')}; Deno ${pulls('deno')} (new layer ${r.image.next_new_layer.digest.slice(7, 19)}, ${mib(r.image.next_new_layer.size)};`,
    `${r.next.met ? 'it, and it alone, every time' : '**not only it**'}). The relay's own check, \`base\` into an empty store: Node`,
    `${r.next.node.base_into_empty_store.layers_fetched}, Deno ${r.next.deno.base_into_empty_store.layers_fetched} of ${r.image.layers} layers.`,
    '',
    '## Start of a one-container pod: 5-layer image against the busybox directory image',
    '',
    'Both from the same store (`--images`, holding `base` and a symlink to images/busybox), `imagePullPolicy: IfNotPresent`,',
    '`restartPolicy: Never`, command /bin/true.',
    '',
    row(['what', 'median ms', 'min–max ms', 'vs busybox']),
    row(['---', '---:', '---:', '---:']),
    ...['pod-node-layered', 'pod-node-busybox', 'pod-deno-layered', 'pod-deno-busybox'].map((id) =>
      row([b[id].label, fmt(b[id].median_ms), `${fmt(b[id].min_ms)}–${fmt(b[id].max_ms)}`, ratio(b[id].vs_busybox)])),
    '',
    '## Targets',
    '',
    row(['target', 'measured', '']),
    row(['---', '---:', '---']),
    ...r.targets.map((t) => row([t.target, t.value, mark(t.met)])),
    '',
    'Every command ran with `NODE_EXTRA_CA_CERTS` unset (the caller had',
    `\`${r.machine.node_extra_ca_certs_in_caller}\`), as in bench/start.sh.`,
    '',
    '## Machine and versions',
    '',
    ...busy(r.machine),
    `- machine: ${r.machine.nproc} CPUs (${r.machine.cpu}), ${r.machine.memory}, kernel ${r.machine.kernel}; load average ${r.machine.loadavg}`,
    ...Object.entries(r.versions).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Commands',
    '',
    'Each round ran, for the pulls and for the pods,',
    '',
    '```sh',
    r.harness.pulls,
    r.harness.pods,
    '```',
    '',
    'with (`$TMP` is the run\'s temp dir, removed at the end; HOST the registry, 127.0.0.1:PORT):',
    '',
    '```sh',
    ...Object.entries(b).flatMap(([id, v]) => [`${id}: ${v.command}`, ...(v.prepare ? [`  prepare: ${v.prepare}`] : [])]),
    '```',
    '',
  ].join('\n');
}
