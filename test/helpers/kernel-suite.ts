import { suite } from 'uvu';
import { assertBaseline, snapshot } from './baseline.ts';
import { isRoot, Scratch } from './cli.ts';

export interface KernelContext {
  scratch: Scratch;
}

/**
 * A suite of tests that run real pods: each test gets its own scratch state
 * root, and after each one the mount table, the process table and the
 * state root must be back to what they were. Both checks live in the test
 * body (not in uvu hooks, which lose an error thrown after a failed test).
 */
export function kernelSuite(name: string) {
  const s = suite(name);
  if (!isRoot) console.log(`  skipping "${name}": it creates namespaces and mounts, which needs root`);
  const test = (title: string, fn: (ctx: KernelContext) => Promise<unknown>) => {
    if (!isRoot) return s.skip(title);
    s(title, async () => {
      const scratch = new Scratch();
      const before = snapshot();
      let failure: unknown = null;
      try {
        await fn({ scratch });
      } catch (err) {
        failure = err;
      }
      try {
        await assertBaseline(before, scratch.root);
      } catch (err) {
        if (failure) console.error(`  and "${title}" also left something behind: ${(err as Error).message}`);
        failure ??= err;
      } finally {
        scratch.remove();
      }
      if (failure) throw failure;
    });
  };
  /** A test that cannot run here, said with why (it counts as skipped). */
  const skip = (title: string, why: string) => {
    console.log(`  skipping "${title}": ${why}`);
    s.skip(title);
  };
  return { test, skip, run: () => s.run() };
}
