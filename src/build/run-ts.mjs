// Runs a TypeScript entry (benchmarks) on Node 20, which can't run TS itself: bundle it with
// esbuild into dist/run/, dependencies left as imports, then run it with the same arguments.
import { build } from 'esbuild';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';

const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node src/build/run-ts.mjs FILE.ts [args...]');
  process.exit(2);
}
const outfile = `dist/run/${basename(entry).replace(/\.ts$/, '')}.mjs`;
await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', logLevel: 'warning' });
process.argv = [process.argv[0], outfile, ...rest];
await import(pathToFileURL(outfile).href);
