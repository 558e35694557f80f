import { resolve } from 'node:path';
import { execa } from 'execa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

// The pause binary on its own, outside any pod: the behaviour Kubernetes'
// pause.c has, which minipod's must match.
const pause = resolve('build/pause');
const test = suite('pause');

test('-v prints its version and exits 0', async () => {
  const r = await execa(pause, ['-v'], { reject: false });
  assert.is(r.exitCode, 0);
  assert.match(r.stdout, /^pause\.c \S+$/);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} makes it exit 0; not being PID 1 is only a warning`, async () => {
    const child = execa(pause, [], { reject: false });
    await new Promise((r) => setTimeout(r, 100));
    process.kill(child.pid!, signal); // not child.kill(): under Deno it then reports the signal, not the exit code
    const r = await child;
    assert.is(r.exitCode, 0);
    assert.match(r.stderr, 'Warning: pause should be the first process');
    assert.match(r.stderr, 'Shutting down, got signal');
  });
}

test('it reaps children re-parented to it', async () => {
  // As a subreaper stand-in: a shell makes pause the parent of an exiting child
  // by exec'ing it after forking one; the child must not stay a zombie.
  const child = execa('sh', ['-c', `sleep 0.1 & exec ${pause}`], { reject: false });
  await new Promise((r) => setTimeout(r, 400));
  const { readdirSync, readFileSync } = await import('node:fs');
  const zombies = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return state === 'Z' && Number(ppid) === child.pid;
      } catch {
        return false;
      }
    });
  process.kill(child.pid!, 'SIGTERM');
  await child;
  assert.equal(zombies, []);
});

test.run();
