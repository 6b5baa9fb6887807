// A lean kubeconfig reader for the one-shot path: loading @kubernetes/client-node costs ~270 ms
// per CNI call, more than all of a pod's delegates. It covers what node kubeconfigs use (a
// token, token file or client certificate; CA data or file; insecure-skip-tls-verify) and says
// `undefined` for anything else (exec plugins, auth-providers), where the caller falls back to
// client-node's KubeConfig.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { CniError, Code } from '../cni/errors.js';

export interface KubeEndpoint {
  server: URL;
  ca?: Buffer;
  insecure: boolean;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  /** The files the credentials were read from besides the kubeconfig (tokenFile, certificates). */
  files: string[];
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  value?: T;
}

const named = <T>(list: unknown, name: unknown, key: string): T | undefined => {
  if (!Array.isArray(list)) return undefined;
  return (list as Named<unknown>[]).find((e) => e?.name === name)?.[key] as T | undefined;
};

/** braid install writes JSON (valid YAML); only other files pay for loading the YAML parser. */
async function parseJsonOrYaml(text: string): Promise<unknown> {
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch {
      // not JSON after all: YAML flow style
    }
  }
  const { parse } = await import('yaml');
  return parse(text);
}

export async function readKubeconfig(path: string): Promise<KubeEndpoint | undefined> {
  let doc: any;
  try {
    const text = readFileSync(path, 'utf8');
    doc = await parseJsonOrYaml(text);
  } catch (e) {
    throw new CniError(Code.InvalidConfig, `failed to load kubeconfig ${path}: ${(e as Error).message}`);
  }
  const context = named<Record<string, unknown>>(doc?.contexts, doc?.['current-context'], 'context');
  const cluster = named<Record<string, unknown>>(doc?.clusters, context?.cluster, 'cluster');
  const user = named<Record<string, unknown>>(doc?.users, context?.user, 'user') ?? {};
  if (!context || !cluster || typeof cluster.server !== 'string') return undefined;
  if (user.exec || user['auth-provider'] || user.username || cluster['proxy-url']) return undefined;
  const rel = (p: unknown) => (typeof p === 'string' ? (isAbsolute(p) ? p : join(dirname(path), p)) : undefined);
  const files: string[] = [];
  const read = (f: string) => {
    files.push(f);
    return readFileSync(f);
  };
  const fileOrData = (file: unknown, data: unknown): Buffer | undefined => {
    if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
    const f = rel(file);
    return f ? read(f) : undefined;
  };
  try {
    const tokenFile = rel(user.tokenFile);
    const token = typeof user.token === 'string' && user.token ? user.token : tokenFile ? read(tokenFile).toString('utf8').trim() : undefined;
    return {
      files,
      server: new URL(cluster.server),
      ca: fileOrData(cluster['certificate-authority'], cluster['certificate-authority-data']),
      insecure: cluster['insecure-skip-tls-verify'] === true,
      cert: fileOrData(user['client-certificate'], user['client-certificate-data']),
      key: fileOrData(user['client-key'], user['client-key-data']),
      ...(token ? { token } : {}),
    };
  } catch (e) {
    // Never echo file contents: the message names the kubeconfig only.
    throw new CniError(Code.InvalidConfig, `kubeconfig ${path}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable credentials'}`);
  }
}
