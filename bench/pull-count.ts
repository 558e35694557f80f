// What one pull fetches, for bench/pull.sh: the command runs against a
// counting relay (test/helpers/fault-proxy.ts with no fault set) in front of
// the registry, which records every request; the timed pulls go to the
// registry itself, so the relay's cost is in none of the figures.
// usage: node --import tsx bench/pull-count.ts UPSTREAM_URL COMMAND [ARG...]
//   runs COMMAND with `{HOST}` in its arguments replaced by the relay's
//   host:port; prints one JSON object: the command's exit code, its stderr,
//   every request (method, path, status) and the digests of the blobs it
//   GET; exits 1 when the command failed.
import { spawn } from 'node:child_process';
import { startFaultProxy } from '../test/helpers/fault-proxy.ts';

const [upstream, ...command] = process.argv.slice(2);
if (!upstream || command.length === 0) {
  console.error('usage: node --import tsx bench/pull-count.ts UPSTREAM_URL COMMAND [ARG...]');
  process.exit(2);
}
const relay = await startFaultProxy({ upstream });
let result: { exit: number | null; signal: string | null; stderr: string };
try {
  const args = command.map((a) => a.replaceAll('{HOST}', relay.host));
  // Not spawnSync: the relay answers from this process's event loop.
  result = await new Promise((resolve, reject) => {
    const child = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', reject);
    child.once('close', (exit, signal) => resolve({ exit, signal, stderr }));
  });
} finally {
  await relay.stop();
}
const blobGets = relay.requests
  .filter((r) => r.method === 'GET' && /\/blobs\/sha256:[0-9a-f]{64}$/.test(r.path))
  .map((r) => r.path.slice(r.path.lastIndexOf('/') + 1));
console.log(JSON.stringify({ ...result, requests: relay.requests, blob_gets: blobGets }));
process.exit(result.exit === 0 ? 0 : 1);
