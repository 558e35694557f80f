// What `minipod run` prints on stderr when the pod has ended: the pod's line
// as `kubectl get pod` prints it, then one line per container from its
// status, in kubectl's plain aligned columns.
import type { ContainerStatus, PodResult } from '../supervisor/status.ts';

/** Columns padded to their widest cell, three spaces apart as kubectl's, no trailing blanks. */
export function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('   ').trimEnd());
}

/** A short duration: 350ms, 4.2s, 42s, 3m5s, 2h10m. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** kubelet's reason for a container waiting when the pod ended: in backoff, or never started (its init containers did not finish). */
export function waitingReason(c: ContainerStatus): 'CrashLoopBackOff' | 'PodInitializing' {
  return c.last ? 'CrashLoopBackOff' : 'PodInitializing';
}

function containerRow(c: ContainerStatus, podEnd: number): string[] {
  const name = c.kind === 'app' ? c.name : `${c.name} (${c.kind})`;
  if (c.state === 'running') return [name, 'running', '', '', String(c.restarts), duration(podEnd - c.startedAt!)];
  const t = c.last;
  const reason = c.state === 'waiting' ? waitingReason(c) : (t?.reason ?? '');
  return [
    name,
    c.state,
    t ? String(t.exitCode) : '',
    reason,
    String(c.restarts),
    t ? duration(t.finishedAt - t.startedAt) : '',
  ];
}

/** kubectl's STATUS column: the pod's reason, `Init:Error` when an init container failed, else the phase. */
function podStatusText(pod: PodResult): string {
  if (pod.reason) return pod.reason;
  const failedInit = pod.initContainers.find((c) => c.kind === 'init' && c.last && c.last.exitCode !== 0 && c.state !== 'running');
  return failedInit ? `Init:${failedInit.last!.reason}` : pod.phase;
}

const MIB = 1024 * 1024;
function bytes(n: number | null): string {
  if (n === null) return '-';
  return n >= MIB ? `${(n / MIB).toFixed(1)}Mi` : `${Math.round(n / 1024)}Ki`;
}

/** --stats: what each container used, from its cgroup; '-' where the kernel does not say (memory.peak before Linux 5.19). */
export function statsTable(pod: PodResult): string {
  const rows = [...pod.initContainers, ...pod.containers].map(({ name, usage: u }) => [
    name, bytes(u?.memoryBytes ?? null), bytes(u?.memoryPeakBytes ?? null),
    u?.cpuSeconds == null ? '-' : `${u.cpuSeconds.toFixed(3)}s`, u?.pids == null ? '-' : String(u.pids),
  ]);
  return `${columns([['CONTAINER', 'MEMORY', 'PEAK', 'CPU', 'PIDS'], ...rows]).join('\n')}\n`;
}

/** The table, one string ending in a newline; init containers first, in their order. */
export function statusTable(pod: PodResult): string {
  const all = [...pod.initContainers, ...pod.containers];
  const restarts = all.reduce((sum, c) => sum + c.restarts, 0);
  const ready = pod.containers.filter((c) => c.state === 'running').length;
  const podLines = columns([
    // kubectl get pod -o wide's columns, up to the scheduler's.
    ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE'],
    [
      pod.name, `${ready}/${pod.containers.length}`, podStatusText(pod), String(restarts), duration(pod.finishedAt - pod.startedAt),
      pod.podIP || '<none>', pod.node.name,
    ],
  ]);
  const containerLines = columns([
    ['CONTAINER', 'STATE', 'EXIT CODE', 'REASON', 'RESTARTS', 'DURATION'],
    ...all.map((c) => containerRow(c, pod.finishedAt)),
  ]);
  return [...podLines, ...containerLines].join('\n') + '\n';
}

/** go-units' HumanDuration, as `docker images` prints CREATED. */
export function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  if (s < 1) return 'Less than a second ago';
  if (s < 60) return plural(s, 'second');
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute ago';
  if (m < 60) return plural(m, 'minute');
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour ago';
  if (h < 48) return plural(h, 'hour');
  if (h < 24 * 7 * 2) return plural(Math.floor(h / 24), 'day');
  if (h < 24 * 30 * 2) return plural(Math.floor(h / 24 / 7), 'week');
  if (h < 24 * 365 * 2) return plural(Math.floor(h / 24 / 30), 'month');
  return plural(Math.floor(h / 24 / 365), 'year');
}

/** go-units' HumanSizeWithPrecision(size, 3): decimal units, as docker prints SIZE. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let n = bytes;
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(3))}${units[i]}`;
}
