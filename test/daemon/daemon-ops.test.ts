// Operating the daemon: its socket, health, readiness, metrics, graceful shutdown and config
// reload, as a kubelet, Prometheus and an operator see them.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useDaemonApi, DaemonProcess, SHIM_C, callShim, killAllDaemons, shimEntry, sleep, waitFor } from './daemon-harness.js';

const FAKE = join(import.meta.dirname, '../fixtures/plugins/fake-plugin');
let dir: string;
const t = useDaemonApi();
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'braid-ops-'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(FAKE, join(dir, 'bin/fake'));
});
afterEach(async () => {
  await killAllDaemons();
  rmSync(dir, { recursive: true, force: true });
});

/** A cluster network of one fake plugin; returns its path. */
function network(name: string, fake: Record<string, string>): string {
  const file = join(dir, `${name}.conflist`);
  writeFileSync(file, JSON.stringify({ cniVersion: '1.0.0', name, plugins: [{ type: 'fake', fake }] }));
  return file;
}

function writeConfig(extra: Record<string, unknown>, file = join(dir, 'braid.conf')): string {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify({ cniVersion: '1.0.0', name: 'braid', type: 'braid', cniDir: join(dir, 'cni'), binDir: join(dir, 'bin'), logFile: join(dir, 'braid.log'), ...extra }));
  renameSync(tmp, file); // as editors and ConfigMap updates do
  return file;
}

const add = (socket: string, containerId = 'c1') =>
  callShim(SHIM_C, { command: 'ADD', containerId, netns: '/var/run/netns/unused', config: shimEntry(socket) });

describe('socket, health and metrics', () => {
  it('listens on a 0600 socket in a new 0700 directory and serves /healthz, /readyz, /metrics', async () => {
    const socket = join(dir, 'run/braid/braid.sock');
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const config = writeConfig({ clusterNetwork: network('net', {}) });
    const d = await DaemonProcess.start({ config, socket, args: ['--metrics-address', `127.0.0.1:${port}`] });
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(socket).isSocket()).toBe(true);
    expect(statSync(join(dir, 'run/braid')).mode & 0o777).toBe(0o700);

    expect(await d.get('/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect(await d.get('/readyz')).toMatchObject({ status: 200, body: 'ok: no kubeconfig, no informers\n' });
    expect((await d.get('/nope')).status).toBe(404);
    expect((await d.get('/cni')).status).toBe(405);

    expect((await add(socket)).status).toBe(0);
    expect((await callShim(SHIM_C, { command: 'DEL', containerId: 'c1', config: shimEntry(socket) })).status).toBe(0);
    expect((await callShim(SHIM_C, { command: 'ADD', config: shimEntry(socket) })).json.code).toBe(4);
    const text = (await d.get('/metrics')).body;
    for (const name of [
      'braid_cni_requests_total',
      'braid_cni_request_duration_seconds_bucket',
      'braid_cni_inflight_operations',
      'braid_delegate_duration_seconds_bucket',
      'braid_delegates_running',
      'braid_delegates_waiting',
      'braid_kube_api_requests_total',
      'braid_process_resident_memory_bytes',
    ]) {
      expect(text).toContain(`${name}`);
    }
    expect(await d.metric('braid_cni_requests_total', { verb: 'ADD', result: 'ok' })).toBe(1);
    expect(await d.metric('braid_cni_requests_total', { verb: 'ADD', result: 'error', code: '4' })).toBe(1);
    expect(await d.metric('braid_cni_requests_total', { verb: 'DEL', result: 'ok' })).toBe(1);
    expect(await d.metric('braid_cni_request_duration_seconds_count', { verb: 'ADD' })).toBe(2);
    expect(await d.metric('braid_delegate_duration_seconds_count', { plugin: 'fake', command: 'DEL' })).toBe(1);

    // Prometheus over TCP gets the same, but never the CNI endpoint.
    const tcp = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(tcp.status).toBe(200);
    expect(await tcp.text()).toContain('braid_cni_requests_total{verb="ADD",result="ok",code="0"} 1');
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/cni`, { method: 'POST', body: '{}' })).status).toBe(405);
    expect(d.stdout).toBe(''); // stdout is never used
  });

  it("delegates get the daemon's environment without its CNI_ variables, and the request's CNI_ values", async () => {
    const dump = join(dir, 'env.txt');
    const plugin = join(dir, 'bin/envdump');
    writeFileSync(plugin, `#!/bin/sh\ncat >/dev/null\nenv > '${dump}'\necho '{"cniVersion":"1.0.0","interfaces":[],"ips":[]}'\n`, { mode: 0o755 });
    const file = join(dir, 'envdump.conflist');
    writeFileSync(file, JSON.stringify({ cniVersion: '1.0.0', name: 'envdump', plugins: [{ type: 'envdump' }] }));
    const socket = join(dir, 'env.sock');
    await DaemonProcess.start({ config: writeConfig({ clusterNetwork: file }), socket, env: { BRAID_TEST_MARK: 'kept', CNI_IFNAME: 'stale0', CNI_ARGS: 'stale=1' } });
    const r = await callShim(SHIM_C, { command: 'ADD', containerId: 'envc', netns: '/var/run/netns/unused', ifname: 'net7', config: shimEntry(socket) });
    expect(r.status, r.stdout).toBe(0);
    const env = readFileSync(dump, 'utf8').split('\n');
    expect(env).toContain('BRAID_TEST_MARK=kept');
    expect(env).toContain('CNI_COMMAND=ADD');
    expect(env).toContain('CNI_CONTAINERID=envc');
    expect(env).toContain('CNI_IFNAME=net7');
    expect(env.filter((l) => l.includes('stale'))).toEqual([]);
  });

  it('started before braid install wrote its kubeconfig, it serves at once and starts its informers when the file appears', async () => {
    const kubeconfig = join(dir, 'braid.d/braid.kubeconfig');
    const config = writeConfig({ clusterNetwork: network('net', {}), kubeconfig });
    const socket = join(dir, 'braid.sock');
    const d = await DaemonProcess.start({ config, socket, wait: 'listening' });
    expect(await d.get('/readyz')).toMatchObject({ status: 503, body: `waiting for kubeconfig ${kubeconfig}\n` });
    // Nothing the pod needs is in the API: the ADD is served without it.
    const early = await add(socket, 'early');
    expect(early.status, JSON.stringify(early.json)).toBe(0);
    mkdirSync(join(dir, 'braid.d'));
    t.api.writeKubeconfig(kubeconfig);
    await d.waitFor('/readyz');
    expect(await d.metric('braid_informer_synced', { resource: 'pods' })).toBe(1);
    expect(d.exitCode).toBeUndefined();
  });

  it('is not ready until the informers have listed, retrying while the API server is down', async () => {
    await t.api.stop();
    try {
      const config = writeConfig({ clusterNetwork: network('net', {}), kubeconfig: t.api.writeKubeconfig(join(dir, 'kubeconfig')) });
      const d = await DaemonProcess.start({ config, socket: join(dir, 'braid.sock'), wait: 'listening' });
      await sleep(700);
      expect(await d.get('/readyz')).toMatchObject({ status: 503, body: 'informer caches not synced yet\n' });
      expect(await d.metric('braid_kube_api_requests_total', { verb: 'list', result: 'error' })).toBeGreaterThan(0);
      await t.api.start();
      await d.waitFor('/readyz');
      expect(await d.metric('braid_informer_synced', { resource: 'pods' })).toBe(1);
      expect(await d.metric('braid_informer_synced', { resource: 'network-attachment-definitions' })).toBe(1);
      expect(await d.metric('braid_informer_restarts_total', { resource: 'pods' })).toBeGreaterThan(0);

      // The API goes away again: the caches keep serving, the watches come back afterwards.
      t.api.addNad('default', 'before', { cniVersion: '1.0.0', type: 'fake' });
      await waitFor('NAD in cache', async () => ((await d.metric('braid_informer_objects', { resource: 'network-attachment-definitions' })) ?? 0) >= 1 || undefined);
      await t.api.stop();
      t.api.addNad('default', 'while-down', { cniVersion: '1.0.0', type: 'fake' });
      await sleep(300);
      await t.api.start();
      await waitFor('NAD added while the API was down', async () => ((await d.metric('braid_informer_objects', { resource: 'network-attachment-definitions' })) ?? 0) >= 2 || undefined, 40_000);
      // Informers closed on SIGTERM: nothing keeps the process alive (the 2 s safety exit unused).
      const t0 = Date.now();
      expect(await d.terminate()).toBe(0);
      expect(Date.now() - t0).toBeLessThan(1500);
    } finally {
      await t.api.start(); // idempotent
      t.api.deleteNad('default', 'before');
      t.api.deleteNad('default', 'while-down');
    }
  });

  it('refuses to take over a socket another daemon is serving', async () => {
    const socket = join(dir, 'braid.sock');
    const config = writeConfig({ clusterNetwork: network('net', {}) });
    const first = await DaemonProcess.start({ config, socket });
    const second = await DaemonProcess.start({ config, socket, wait: 'none' });
    expect(await second.exited).toBe(1);
    expect(second.stderr).toContain(`is serving ${socket}`);
    expect((await first.get('/healthz')).status).toBe(200);
  });
});

describe('start-up errors', () => {
  it('exits 2 on a usage error and 1 on an invalid config, saying why on stderr', async () => {
    const socket = join(dir, 'braid.sock');
    const usage = await DaemonProcess.start({ config: join(dir, 'x.conf'), socket, args: ['--max-delegates', 'lots'], wait: 'none' });
    expect(await usage.exited).toBe(2);
    expect(usage.stderr).toContain('braid daemon: --max-delegates: "lots": not a positive integer');
    writeFileSync(join(dir, 'bad.conf'), JSON.stringify({ type: 'braid' }));
    const bad = await DaemonProcess.start({ config: join(dir, 'bad.conf'), socket, wait: 'none' });
    expect(await bad.exited).toBe(1);
    expect(bad.stderr).toContain('clusterNetwork');
    expect(existsSync(socket)).toBe(false);
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM finishes the in-flight ADD, removes the socket and exits 0', async () => {
    const socket = join(dir, 'braid.sock');
    const log = join(dir, 'plugin.log');
    const config = writeConfig({ clusterNetwork: network('slow', { add: 'sleep:1500' }) });
    const d = await DaemonProcess.start({ config, socket, env: { FAKE_PLUGIN_LOG: log } });
    const pending = add(socket);
    await waitFor('the ADD to be running', () => (existsSync(log) && readFileSync(log, 'utf8').includes('begin ADD')) || undefined);
    const t0 = Date.now();
    d.proc.kill('SIGTERM');
    await sleep(100);
    expect((await add(socket, 'late')).json.code).toBe(11); // no new work once shutting down
    const r = await pending;
    expect(r.status, r.stdout).toBe(0);
    expect(await d.exited).toBe(0);
    expect(Date.now() - t0).toBeGreaterThan(500);
    expect(existsSync(socket)).toBe(false);
  });
});

describe('config reload', () => {
  it('applies a changed config to the next request and keeps the old one when the new is invalid', async () => {
    const socket = join(dir, 'braid.sock');
    const config = writeConfig({ clusterNetwork: network('broken', { add: 'error:7' }) });
    const d = await DaemonProcess.start({ config, socket });
    const before = await add(socket, 'a');
    expect(before.json.code).toBe(7);
    expect(before.json.msg).toContain('network broken');

    writeConfig({ clusterNetwork: network('fixed', {}) });
    await waitFor('reload', async () => (await d.metric('braid_config_reloads_total', { result: 'ok' })) === 1 || undefined);
    expect((await add(socket, 'b')).status).toBe(0);

    writeFileSync(config, '{"type": "braid", '); // invalid JSON: logged, the running config stays
    await waitFor('rejected reload', async () => (await d.metric('braid_config_reloads_total', { result: 'invalid' })) === 1 || undefined);
    expect((await add(socket, 'c')).status).toBe(0);
    expect(readFileSync(join(dir, 'braid.log'), 'utf8')).toContain('configuration change rejected');
  });
});
