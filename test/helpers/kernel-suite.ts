import { suite } from 'uvu';
import { assertBaseline, snapshot } from './baseline.ts';
import { isRoot, Scratch } from './cli.ts';

export interface KernelContext {
  scratch: Scratch;
}

/**
 * A suite of tests that run real pods: each test gets its own scratch state
 * root, and after each one the mount table, the process table and the
 * state root must be back to what they were.
 */
export function kernelSuite(name: string) {
  const s = suite<KernelContext>(name, { scratch: null as unknown as Scratch });
  if (!isRoot) {
    console.log(`  skipping "${name}": it creates namespaces and mounts, which needs root`);
  }
  let before: ReturnType<typeof snapshot>;
  s.before.each((ctx) => {
    ctx.scratch = new Scratch();
    before = snapshot();
  });
  s.after.each(async (ctx) => {
    try {
      await assertBaseline(before, ctx.scratch.root);
    } finally {
      ctx.scratch.remove();
    }
  });
  // uvu has no skip reason: the line above says why, and the tests are counted as skipped.
  const test = ((title: string, fn: (ctx: KernelContext) => unknown) => (isRoot ? s(title, fn) : s.skip(title, fn))) as typeof s;
  return { test, run: () => s.run() };
}
