// Runs test files with uvu, the same way under Node (through tsx) and Deno,
// and ends with one line `LABEL: N passed, N failed, N skipped` that
// test/run-all.sh adds up.
//   node --import tsx test/run.ts LABEL DIR...   |   deno run -A test/run.ts LABEL DIR...
import { appendFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [label = 'tests', ...dirs] = process.argv.slice(2);

function testFiles(dir: string): string[] {
  if (!statSync(dir).isDirectory()) return [dir];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return testFiles(path);
      return name.endsWith('.test.ts') ? [path] : [];
    });
}

const g = globalThis as { UVU_DEFER?: number; UVU_INDEX?: number; UVU_QUEUE?: unknown[][] };
g.UVU_DEFER = 1;
const uvu = await import('uvu');
const files = dirs.flatMap((dir) => testFiles(resolve(dir)));
for (const [index, file] of files.entries()) {
  g.UVU_INDEX = index;
  g.UVU_QUEUE!.push([relative(process.cwd(), file)]);
  await import(pathToFileURL(file).href);
}

// uvu prints its totals but does not return them: read them off its output.
let output = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
  output += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
  return write(chunk, ...rest);
}) as typeof process.stdout.write;
await uvu.exec(false);
process.stdout.write = write;

const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
const count = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(plain)?.[1] ?? 0);
const total = count('Total');
const passed = count('Passed');
const skipped = count('Skipped');
const failed = total - passed;
console.log(`${label}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (process.env.MINIPOD_TEST_RESULTS) {
  appendFileSync(process.env.MINIPOD_TEST_RESULTS, `${JSON.stringify({ label, passed, failed, skipped })}\n`);
}
process.exit(failed || files.length === 0 ? 1 : 0);
