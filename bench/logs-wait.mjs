// Waits for one output file of bench/logs.sh to be written, and times it.
// usage: node bench/logs-wait.mjs FILE SUPERVISOR_PID [TIMEOUT_S]
// FILE may hold one `*` in a directory name (the pod's uid in a CRI log
// path). The clock starts when the file appears and stops when it ends with
// "END\n", the line the writer ends with; meanwhile the supervisor's VmRSS is
// sampled every 50 ms. Prints one line of JSON. Polls synchronously (the
// event loop is idle anyway), so the waiting costs little CPU.
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

const [pattern, supervisor, timeoutS = '600'] = process.argv.slice(2);
if (!pattern || !supervisor) throw new Error('usage: node bench/logs-wait.mjs FILE SUPERVISOR_PID [TIMEOUT_S]');
const deadline = performance.now() + Number(timeoutS) * 1000;
const cell = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms) => Atomics.wait(cell, 0, 0, ms);
const rss = () => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${supervisor}/status`, 'utf8'))[1]);
const check = () => {
  if (performance.now() > deadline) throw new Error(`${pattern}: not complete after ${timeoutS} s`);
};

function find() { // the path, once it exists
  const star = pattern.indexOf('*');
  if (star < 0) return existsSync(pattern) ? pattern : null;
  const slash = pattern.indexOf('/', star);
  const parent = dirname(pattern.slice(0, star + 1));
  const [before, after] = basename(pattern.slice(0, slash)).split('*');
  let names = [];
  try { names = readdirSync(parent); } catch { return null; }
  for (const name of names) {
    if (!name.startsWith(before) || !name.endsWith(after)) continue;
    const path = join(parent, name, pattern.slice(slash + 1));
    if (existsSync(path)) return path;
  }
  return null;
}

const samples = [rss()];
let path;
while (!(path = find())) {
  check();
  sleep(1);
}
const start = performance.now();
let lastSample = start;
const tail = new Uint8Array(4);
let size = 0;
for (;;) {
  const fd = openSync(path, 'r');
  size = fstatSync(fd).size;
  const n = size >= 4 ? readSync(fd, tail, 0, 4, size - 4) : 0;
  closeSync(fd);
  if (n === 4 && new TextDecoder().decode(tail) === 'END\n') break;
  if (performance.now() - lastSample >= 50) {
    samples.push(rss());
    lastSample = performance.now();
  }
  check();
  sleep(5);
}
const seconds = (performance.now() - start) / 1000;
samples.push(rss());
console.log(JSON.stringify({
  path, seconds, file_bytes: size,
  supervisor_rss_kb: { min: Math.min(...samples), max: Math.max(...samples), first: samples[0], last: samples.at(-1), samples: samples.length, every_50ms: samples },
}));
