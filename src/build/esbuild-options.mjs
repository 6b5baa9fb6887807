// esbuild settings every braid executable shares (dist/braid's chunks, the Node.js shim).
export const nodeExecutable = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // CommonJS: an extensionless file outside a "type": "module" package is loaded as CommonJS.
  format: 'cjs',
  // BRAID_MINIFY=0 keeps names, for reading CPU profiles.
  minify: process.env.BRAID_MINIFY !== '0',
  legalComments: 'none',
  logLevel: 'warning',
  // src/log.ts reads import.meta.url only when unbundled (ESM); in the CommonJS bundle it uses require.
  logOverride: { 'empty-import-meta': 'silent' },
};
