// dist/braid's loader compiles the embedded app and heavy chunks with vm.Script and hands them
// its own require: it serves require() of Node's builtins and nothing else (no node_modules
// beside /opt/cni/bin/braid, no dynamic-import hook). This reads both chunks back out of the
// built file, parses them, and fails on any import() or any require() the loader can't serve;
// then it drives the paths that load node:https at run time through the binary itself.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { brotliDecompressSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertBuilt, BRAID, callBraid, k8sArgs } from '../helpers/braid-runner.js';
import { TestWorld } from '../helpers/netns.js';
import { DaemonProcess, killAllDaemons } from '../daemon/daemon-harness.js';

// Optional dependencies their libraries require inside try/catch and do without when absent
// (node-fetch: encoding; debug: supports-color; ws: bufferutil, utf-8-validate).
const OPTIONAL = new Set(['encoding', 'supports-color', 'bufferutil', 'utf-8-validate']);

function chunks(): Record<'app' | 'heavy', string> {
  const file = readFileSync(BRAID, 'utf8');
  const literal = (name: string): string => {
    const m = new RegExp(`^const ${name}=(".*");$`, 'm').exec(file);
    if (!m) throw new Error(`dist/braid has no ${name} literal: has the loader's layout changed?`);
    return JSON.parse(m[1]!) as string;
  };
  return { app: literal('APP'), heavy: brotliDecompressSync(Buffer.from(literal('HEAVY_BR'), 'base64')).toString('utf8') };
}

/** Every import()/require() in the code, found by esbuild's parser (not a text search). */
async function importsOf(name: string, code: string): Promise<Array<{ kind: string; path: string }>> {
  const r = await build({
    stdin: { contents: code, loader: 'js', sourcefile: name },
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    metafile: true,
    logLevel: 'silent',
    plugins: [{ name: 'everything-external', setup: (b) => b.onResolve({ filter: /.*/ }, (a) => ({ path: a.path, external: true })) }],
  });
  return Object.values(r.metafile.inputs).flatMap((i) => i.imports.map(({ kind, path }) => ({ kind, path })));
}

describe('the built bundle', () => {
  it('asks its loader only for what the loader serves: no import(), require() of builtins only', async () => {
    assertBuilt();
    for (const [name, code] of Object.entries(chunks())) {
      const imports = await importsOf(name, code);
      // The check can fail: the parser does see requires (the app needs node:fs, the heavy chunk node:https).
      expect(imports.length, name).toBeGreaterThan(10);
      expect(imports.filter((i) => i.kind === 'dynamic-import'), `${name}: import() the loader can't serve`).toEqual([]);
      const unserved = imports.filter((i) => i.kind === 'require-call' && !isBuiltin(i.path) && !OPTIONAL.has(i.path));
      expect(unserved, `${name}: require() of modules that are not beside dist/braid`).toEqual([]);
    }
  });

  it('the scan catches a native import() (a bundle built the old way)', async () => {
    const found = await importsOf('probe', 'module.exports = async () => (await import("node:https")).Agent;');
    expect(found).toEqual([{ kind: 'dynamic-import', path: 'node:https' }]);
  });
});

describe('https:// through dist/braid', () => {
  let world: TestWorld;
  beforeEach(() => {
    world = new TestWorld();
  });
  afterEach(async () => {
    await killAllDaemons();
    await world.cleanup();
  });

  /** A kubeconfig for a port nobody listens on: the request must get as far as connecting. */
  function unreachableKubeconfig(): string {
    const path = world.dir('kubeconfig.json');
    writeFileSync(
      path,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'c',
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [{ name: 'u', user: { token: 'any' } }],
      }),
    );
    return path;
  }

  const braidConfig = () => ({
    cniVersion: '1.0.0',
    name: 'braid',
    type: 'braid',
    kubeconfig: unreachableKubeconfig(),
    cniDir: world.dir('braid'),
    delegates: [{ cniVersion: '1.0.0', name: 'lo', plugins: [{ type: 'loopback' }] }],
  });

  it('one-shot ADD loads node:https and answers code 11 (unreachable), not 999', async () => {
    assertBuilt();
    const ns = world.netns();
    const config = braidConfig();
    const r = await callBraid({ command: 'ADD', containerId: `bi${world.tag}`, netns: ns.path, args: k8sArgs('default', 'p'), config });
    expect(r.json, r.stderr).toMatchObject({ code: 11 });
    expect(r.json.msg).toContain('ECONNREFUSED');
  });

  it('the daemon starts its informers over https and keeps serving while the server is unreachable', async () => {
    assertBuilt();
    const config = world.dir('daemon.json');
    writeFileSync(config, JSON.stringify(braidConfig()));
    const d = await DaemonProcess.start({ config, socket: world.dir('d.sock'), wait: 'listening' });
    await new Promise((r) => setTimeout(r, 500));
    expect(d.alive, d.stderr).toBe(true);
    expect(d.stderr).not.toContain('cannot start');
    expect((await d.get('/readyz')).status).toBe(503);
  });
});
