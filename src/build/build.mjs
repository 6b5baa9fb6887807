// Builds dist/braid: one executable file that runs from /opt/cni/bin with no node_modules
// beside it. It is a small loader (bundle-loader.cjs) plus two embedded, minified bundles:
// the app, and the heavy libraries it needs only for some commands, compiled on first use.
import { build } from 'esbuild';
import { nodeExecutable } from './esbuild-options.mjs';
import { createHash } from 'node:crypto';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
process.chdir(root.pathname);
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
mkdirSync('dist', { recursive: true });
// The repo is "type": "module"; this marker makes dist/ CommonJS like an installed copy.
writeFileSync('dist/package.json', '{"type": "commonjs"}\n');

// Loaded only by commands that need them (the daemon, validate, manifests, the demo, a
// kubeconfig with exec auth or in YAML rather than the JSON `braid install` writes).
const HEAVY = ['@kubernetes/client-node', 'ajv', 'ajv/dist/2020.js', 'ajv-formats', 'prom-client', 'yaml', '@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs'];

const common = {
  ...nodeExecutable,
  write: false,
  define: { BRAID_VERSION: JSON.stringify(pkg.version) },
};

const heavyPlugin = {
  name: 'braid-heavy',
  setup(b) {
    const filter = new RegExp(`^(${HEAVY.map((h) => h.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (a) => ({ path: a.path, namespace: 'braid-heavy' }));
    b.onLoad({ filter: /.*/, namespace: 'braid-heavy' }, (a) => ({
      contents: `module.exports = globalThis.__braidHeavy(${JSON.stringify(a.path)});`,
      loader: 'js',
    }));
  },
};

const text = (r) => r.outputFiles[0].text;

const app = text(await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'app.js', plugins: [heavyPlugin] }));
const heavy = text(
  await build({
    ...common,
    stdin: {
      // Getters: each library is initialised only when first asked for.
      contents: `module.exports = {${HEAVY.map((h) => `get ${JSON.stringify(h)}() { return require(${JSON.stringify(h)}); }`).join(',')}};`,
      resolveDir: root.pathname,
      loader: 'js',
    },
    outfile: 'heavy.js',
  }),
);
const hash = createHash('sha256').update(app).update(heavy).digest('hex').slice(0, 16);
// Compressed: scanning a 3.5 MB literal would cost every call ~14 ms; inflating it costs only
// the calls that use it.
const packed = brotliCompressSync(heavy, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }).toString('base64');
const loader = readFileSync('src/build/bundle-loader.cjs', 'utf8');
writeFileSync(
  'dist/braid',
  `#!/usr/bin/env node\n'use strict';\nconst HASH=${JSON.stringify(hash)};\nconst APP=${JSON.stringify(app)};\nconst HEAVY_BR=${JSON.stringify(packed)};\n${loader}`,
);
console.log(`dist/braid: app ${(app.length / 1024).toFixed(0)} KiB, heavy ${(heavy.length / 1024).toFixed(0)} KiB (embedded brotli ${(packed.length / 1024).toFixed(0)} KiB)`);
chmodSync('dist/braid', 0o755);

// The loopback test API server, as one file for the demo and the benchmarks.
await build({ ...common, write: true, minify: false, entryPoints: ['test/k8s-api/main.ts'], outfile: 'dist/fake-apiserver.cjs' });

// The daemon's CNI shim (native when a C compiler exists, else a Node.js fallback).
await import(new URL('src/build/build-shim.mjs', root).href);
