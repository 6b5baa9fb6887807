// Both shims against stand-in daemons (raw unix-socket servers in this process): what they
// forward, what they print, and how they fail. Every failure is exactly one JSON line on
// stdout: 11 when the daemon cannot be reached or does not answer in time, 999 for a
// malformed answer, 7 for an oversized config.
import { createServer, type Server, type Socket } from 'node:net';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SHIMS, assertDaemonBuilt, callShim, shimEntry } from './daemon-harness.js';

let dir: string;
const servers: Server[] = [];
beforeAll(() => assertDaemonBuilt());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'braid-shim-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

interface Received {
  head: string;
  body: string;
}

/** A unix-socket server that hands each complete HTTP request to `reply`. */
async function standIn(path: string, reply: (req: Received, sock: Socket) => void): Promise<Server> {
  const server = createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString();
      const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length - end - 4 < len) return;
      reply({ head, body: buf.subarray(end + 4, end + 4 + len).toString('utf8') }, sock);
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(path, r));
  servers.push(server);
  return server;
}

const http200 = (body: string, exit: number | undefined, extra = '') =>
  `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n${exit === undefined ? '' : `X-CNI-Exit: ${exit}\r\n`}Content-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`;

const ADD = { command: 'ADD' as const, containerId: 'ctr1', netns: '/var/run/netns/x', ifname: 'eth0', args: 'IgnoreUnknown=1;K8S_POD_NAME=p' };

describe.each(SHIMS)('the %s shim', (_name, shim) => {
  it('forwards CNI_* and stdin byte for byte and prints the answer with its exit code', async () => {
    const sock = join(dir, 'd.sock');
    let got: Received | undefined;
    await standIn(sock, (req, s) => {
      got = req;
      s.end(http200('{"cniVersion":"1.0.0","code":3,"msg":"x"}\n', 3));
    });
    // Escapes in daemonSocket, a nested decoy key, and awkward bytes in the config text.
    const escaped = sock.replaceAll('/', '\\/').replace('.', '\\u002e');
    const config = `{\n\t"cniVersion":"1.0.0",\r\n "x":{"daemonSocket":"/nope"},"name":"br\\"aid\\\\","note":"tab\\t é \\u0001","daemonSocket":"${escaped}"}`;
    const r = await callShim(shim, { ...ADD, config, env: { CNI_UNRELATED: 'no', BRAID_SHIM_TIMEOUT: '30' } });
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('{"cniVersion":"1.0.0","code":3,"msg":"x"}\n');
    expect(got!.head).toMatch(/^POST \/cni HTTP\/1\.[01]\r\n/);
    const body = JSON.parse(got!.body);
    expect(body.stdin).toBe(config);
    expect(body.env).toEqual({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'ctr1', CNI_NETNS: '/var/run/netns/x', CNI_IFNAME: 'eth0', CNI_ARGS: ADD.args, CNI_PATH: '/usr/lib/cni' });
  });

  it('prints an empty answer as nothing (DEL)', async () => {
    const sock = join(dir, 'd.sock');
    await standIn(sock, (_req, s) => s.end(http200('', 0)));
    const r = await callShim(shim, { ...ADD, command: 'DEL', config: shimEntry(sock) });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('answers 11 naming the socket when no daemon is there', async () => {
    const sock = join(dir, 'missing.sock');
    const r = await callShim(shim, { ...ADD, config: shimEntry(sock, '0.4.0') });
    expect(r.status).toBe(1);
    expect(r.json).toEqual({ cniVersion: '0.4.0', code: 11, msg: `braid daemon not reachable at ${sock}: No such file or directory; try again later` });
    expect(r.stdout.endsWith('}\n')).toBe(true);
  });

  it('answers 11 for a stale socket nobody listens on', async () => {
    const sock = join(dir, 'stale.sock');
    const tmp = join(dir, 'tmp.sock');
    const s = createServer();
    await new Promise<void>((r) => s.listen(tmp, r));
    renameSync(tmp, sock); // closing unlinks tmp (gone), the renamed socket stays behind
    await new Promise((r) => s.close(r));
    expect(existsSync(sock)).toBe(true);
    const r = await callShim(shim, { ...ADD, config: shimEntry(sock) });
    expect(r.json.code).toBe(11);
    expect(r.json.msg).toBe(`braid daemon not reachable at ${sock}: Connection refused; try again later`);
  });

  it('uses /run/braid/braid.sock without daemonSocket, and 1.1.0 without cniVersion', async () => {
    if (existsSync('/run/braid/braid.sock')) return; // a real daemon on this machine
    const r = await callShim(shim, { ...ADD, config: { name: 'braid', type: 'braid-shim' } });
    expect(r.json).toMatchObject({ cniVersion: '1.1.0', code: 11 });
    expect(r.json.msg).toContain('braid daemon not reachable at /run/braid/braid.sock: ');
  });

  it('answers 11 when the daemon closes the connection without answering', async () => {
    const sock = join(dir, 'd.sock');
    await standIn(sock, (_req, s) => s.destroy());
    const r = await callShim(shim, { ...ADD, config: shimEntry(sock) });
    expect(r.json.code).toBe(11);
    expect(r.json.msg).toMatch(new RegExp(`^braid daemon not reachable at ${sock}: .*; try again later$`));
  });

  it('answers 11 when the daemon does not answer within BRAID_SHIM_TIMEOUT', async () => {
    const sock = join(dir, 'd.sock');
    await standIn(sock, () => undefined);
    const t0 = Date.now();
    const r = await callShim(shim, { ...ADD, config: shimEntry(sock), env: { BRAID_SHIM_TIMEOUT: '1' } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(r.json).toMatchObject({ code: 11, msg: `braid daemon at ${sock} did not answer within 1 s; try again later` });
  });

  it.each([
    ['not HTTP', 'garbage\r\n\r\n'],
    ['an HTTP error', 'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n'],
    ['no X-CNI-Exit', http200('{}', undefined)],
  ])('answers 999 for a malformed answer (%s)', async (_what, answer) => {
    const sock = join(dir, 'd.sock');
    await standIn(sock, (_req, s) => s.end(answer));
    const r = await callShim(shim, { ...ADD, config: shimEntry(sock) });
    expect(r.status).toBe(1);
    expect(r.json.code).toBe(999);
    expect(r.json.msg).toContain(`braid daemon at ${sock} gave a malformed answer`);
  });

  it('refuses a config over 4 MiB with code 7 without calling the daemon', async () => {
    const sock = join(dir, 'd.sock');
    let called = false;
    await standIn(sock, (_req, s) => {
      called = true;
      s.end(http200('', 0));
    });
    const big = JSON.stringify({ ...shimEntry(sock), pad: 'x'.repeat(4 * 1024 * 1024) });
    const r = await callShim(shim, { ...ADD, config: big });
    expect(r.json).toMatchObject({ code: 7, msg: 'stdin exceeds 4194304 bytes' });
    expect(called).toBe(false);
  });
});

describe('the build without a C compiler', () => {
  it('installs the Node.js shim as dist/braid-shim, and no braid-spawner (braid forks with execa)', async () => {
    // build-shim.mjs in a scratch tree whose src/ is this repo's: same sources, own dist/.
    const root = join(dir, 'tree');
    mkdirSync(join(root, 'dist'), { recursive: true });
    symlinkSync(join(import.meta.dirname, '../../src'), join(root, 'src'));
    writeFileSync(join(root, 'dist/package.json'), '{"type": "commonjs"}\n');
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '../../src/build/build-shim.mjs')], { cwd: root, env: { ...process.env, BRAID_NO_CC: '1' }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Node.js fallback');
    const shim = join(root, 'dist/braid-shim');
    expect(existsSync(join(root, 'dist/braid-spawner'))).toBe(false);
    expect(readFileSync(shim, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(shim).mode & 0o777).toBe(0o755);
    const out = await callShim(shim, { ...ADD, config: shimEntry(join(dir, 'none.sock')) });
    expect(out.json).toMatchObject({ code: 11 });
  });
});
