// esbuild settings every braid executable shares (dist/braid's chunks, the Node.js shim).
export const nodeExecutable = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // CommonJS: an extensionless file outside a "type": "module" package is loaded as CommonJS.
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
};
