// Bundles the CLI into one file so `minipod` starts as plain `node` does
// (~60 ms), not through tsx (~600 ms). koffi stays outside: it is a native addon.
import { build } from 'esbuild';

await build({
  entryPoints: ['cmd/minipod.ts'],
  outfile: 'dist/minipod.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['koffi'],
  // CommonJS dependencies (yaml) require node built-ins; give the ESM bundle a require.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __minipodRequire } from 'node:module';\nconst require = __minipodRequire(import.meta.url);" },
  logLevel: 'warning',
});
