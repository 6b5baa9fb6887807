// esbuild settings every braid executable shares (dist/braid's chunks, the Node.js shim).
export const nodeExecutable = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // CommonJS: an extensionless file outside a "type": "module" package is loaded as CommonJS.
  format: 'cjs',
  // dist/braid's loader compiles the bundle with vm.Script, which has no dynamic-import hook:
  // a native import() of a module left outside the bundle (node:https) would throw at run time.
  // Unsupported here, esbuild turns each import() into a lazy require(), which the loader serves.
  supported: { 'dynamic-import': false },
  // BRAID_MINIFY=0 keeps names, for reading CPU profiles.
  minify: process.env.BRAID_MINIFY !== '0',
  legalComments: 'none',
  logLevel: 'warning',
  // src/log.ts reads import.meta.url only when unbundled (ESM); in the CommonJS bundle it uses require.
  logOverride: { 'empty-import-meta': 'silent' },
};
