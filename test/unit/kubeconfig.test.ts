// The lean kubeconfig reader: what node kubeconfigs use, and a fallback signal for the rest.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { readKubeconfig } from '../../src/k8s/kubeconfig.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'braid-kc-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const kc = (cluster: Record<string, unknown>, user: Record<string, unknown>) => `apiVersion: v1
kind: Config
current-context: ctx
contexts:
- name: other
  context: {cluster: nope, user: nope}
- name: ctx
  context: {cluster: c1, user: u1}
clusters:
- name: c1
  cluster: ${JSON.stringify(cluster)}
users:
- name: u1
  user: ${JSON.stringify(user)}
`;

it('reads server, CA data, token and insecure flag from the current context', async () => {
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, kc({ server: 'https://[fd00::1]:6443', 'certificate-authority-data': Buffer.from('CA').toString('base64') }, { token: 'T0K' }));
  const ep = await readKubeconfig(file);
  expect(ep).toMatchObject({ insecure: false, token: 'T0K' });
  expect(ep!.server.hostname).toBe('[fd00::1]');
  expect(ep!.ca!.toString()).toBe('CA');
});

it('resolves tokenFile and cert/key files relative to the kubeconfig', async () => {
  writeFileSync(join(dir, 'token'), 'from-file\n');
  writeFileSync(join(dir, 'tls.crt'), 'CERT');
  writeFileSync(join(dir, 'tls.key'), 'KEY');
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, kc({ server: 'http://127.0.0.1:1', 'insecure-skip-tls-verify': true }, { tokenFile: 'token', 'client-certificate': 'tls.crt', 'client-key': 'tls.key' }));
  const ep = await readKubeconfig(file);
  expect(ep).toMatchObject({ insecure: true, token: 'from-file' });
  expect([ep!.cert!.toString(), ep!.key!.toString()]).toEqual(['CERT', 'KEY']);
});

it('returns undefined for what only client-node handles (exec, auth-provider)', async () => {
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, kc({ server: 'https://x' }, { exec: { command: 'aws', apiVersion: 'client.authentication.k8s.io/v1' } }));
  expect(await readKubeconfig(file)).toBeUndefined();
});

it('fails with code 7 naming the file, never its secrets', async () => {
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, kc({ server: 'https://x' }, { tokenFile: 'missing-token' }));
  await expect(readKubeconfig(file)).rejects.toMatchObject({ code: 7, message: expect.stringContaining('ENOENT') });
  writeFileSync(file, 'users: [oops');
  await expect(readKubeconfig(file)).rejects.toMatchObject({ code: 7, message: expect.stringContaining(file) });
});
