// Bundles braid into one executable file (dist/braid) that runs from /opt/cni/bin with no
// node_modules beside it. Minified and tree-shaken; heavy modules are imported lazily.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
mkdirSync('dist', { recursive: true });
// The repo is "type": "module"; this marker makes dist/ CommonJS like an installed copy.
writeFileSync('dist/package.json', '{"type": "commonjs"}\n');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // CommonJS: a CNI binary lives in /opt/cni/bin with no package.json beside it, where Node 20
  // would load an extensionless ESM file as CommonJS and fail.
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  banner: { js: '#!/usr/bin/env node' },
  define: { BRAID_VERSION: JSON.stringify(pkg.version) },
};

await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/braid' });
chmodSync('dist/braid', 0o755);
