// Bundles the CLI into one file so that `minipod` starts as plain `node`
// does, not through tsx (~600 ms). CommonJS and minified on purpose: Node
// 20 starts a CommonJS file ~15 ms sooner than an ES module (no ESM loader
// to bring up) and compiles less text. Names are kept, since error classes
// report their own name. koffi stays outside: it is a native addon.
import { build } from 'esbuild';

await build({
  entryPoints: ['cmd/minipod.ts'],
  outfile: 'dist/minipod.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['koffi'],
  minify: true,
  keepNames: true,
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: "#!/usr/bin/env node\nconst __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
