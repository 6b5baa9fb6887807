// Kubeconfigs for the test API server, in every form real nodes hold credentials: a token
// inline or in a tokenFile; a client certificate and key inline (-data) or as files; the CA
// inline or as a file; or insecure-skip-tls-verify. YAML (as kubectl writes) or JSON (as
// `braid install` writes).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyPair } from './pki.js';

export interface KubeconfigOptions {
  /** A bearer token (default: the server's own token, unless clientCert is given). */
  token?: string;
  /** Put the token in this file and name it with `tokenFile` instead of `token`. */
  tokenFile?: string;
  /** Authenticate with a client certificate for this user (CN) instead of a token. */
  clientCert?: string | { user: string; groups?: string[] };
  /** Write the CA, certificate and key as files in this directory (default: inline -data). */
  filesDir?: string;
  /** insecure-skip-tls-verify: true and no CA. */
  insecure?: boolean;
  format?: 'yaml' | 'json';
}

export interface KubeconfigMaterial {
  url: string;
  ca?: string | undefined;
  token?: string | undefined;
  client?: KeyPair | undefined;
  /** plain http: client-node refuses http:// unless TLS verification is marked as skipped. */
  plainHttp: boolean;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function kubeconfigDocument(m: KubeconfigMaterial, o: KubeconfigOptions): Record<string, unknown> {
  const file = (name: string, content: string, mode = 0o600): string => {
    mkdirSync(o.filesDir!, { recursive: true });
    const path = join(o.filesDir!, name);
    writeFileSync(path, content, { mode });
    return path;
  };
  const cluster: Record<string, unknown> = { server: m.url };
  if (o.insecure || m.plainHttp) cluster['insecure-skip-tls-verify'] = true;
  else if (m.ca && o.filesDir) cluster['certificate-authority'] = file('ca.crt', m.ca, 0o644);
  else if (m.ca) cluster['certificate-authority-data'] = b64(m.ca);
  const user: Record<string, unknown> = {};
  if (m.client && o.filesDir) {
    user['client-certificate'] = file('client.crt', m.client.cert, 0o644);
    user['client-key'] = file('client.key', m.client.key);
  } else if (m.client) {
    user['client-certificate-data'] = b64(m.client.cert);
    user['client-key-data'] = b64(m.client.key);
  }
  if (m.token !== undefined && o.tokenFile) {
    writeFileSync(o.tokenFile, m.token, { mode: 0o600 });
    user.tokenFile = o.tokenFile;
  } else if (m.token !== undefined) {
    user.token = m.token;
  }
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake', cluster }],
    users: [{ name: 'fake', user }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace: 'default' } }],
    'current-context': 'fake',
  };
}

/** YAML without a YAML library: every scalar is written as a JSON string (valid YAML). */
export function toYaml(v: unknown, indent = ''): string {
  if (Array.isArray(v)) return v.map((e) => `${indent}- ${toYaml(e, `${indent}  `).trimStart()}`).join('\n');
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v);
    if (entries.length === 0) return `${indent}{}`;
    return entries
      .map(([k, e]) => (typeof e === 'object' && e !== null && (Array.isArray(e) ? e.length : Object.keys(e).length) ? `${indent}${k}:\n${toYaml(e, `${indent}  `)}` : `${indent}${k}: ${toYaml(e, '').trim()}`))
      .join('\n');
  }
  return `${indent}${JSON.stringify(v)}`;
}

export function kubeconfigText(m: KubeconfigMaterial, o: KubeconfigOptions): string {
  const doc = kubeconfigDocument(m, o);
  return o.format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : `${toYaml(doc)}\n`;
}
