// The test API server's certificates, made with the openssl command (Node has no API that
// issues X.509 certificates): one CA per process, a serving certificate for 127.0.0.1 and
// localhost, and client certificates whose CN is the user and whose O entries are its groups,
// as kube-apiserver's x509 authenticator reads them. Node builtins only (bundled by main.ts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  /** PEM */
  cert: string;
  /** PEM, unencrypted */
  key: string;
}

export interface TestPki {
  ca: KeyPair;
  server: KeyPair;
  /** A client certificate signed by this CA: CN = user, one O per group. */
  issueClient(user: string, groups?: string[]): KeyPair;
}

// P-256 keys: a few milliseconds each, where RSA 2048 takes tens.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[], dir: string): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('the test API server needs the openssl command (Debian package openssl)');
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.toString().trim() ?? err.message}`);
  }
}

/** A distinguished name for openssl -subj; "/" and "," would end a field, so they are refused. */
function subject(cn: string, orgs: string[]): string {
  for (const v of [cn, ...orgs]) if (/[/,\\\n]/.test(v)) throw new Error(`certificate name ${JSON.stringify(v)}: "/", "," and "\\" are not supported`);
  return [...orgs.map((o) => `/O=${o}`), `/CN=${cn}`].join('');
}

function inTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'braid-pki-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function issue(ca: KeyPair, cn: string, orgs: string[], extensions: string[]): KeyPair {
  return inTempDir((dir) => {
    writeFileSync(join(dir, 'ca.crt'), ca.cert);
    writeFileSync(join(dir, 'ca.key'), ca.key, { mode: 0o600 });
    const ext = extensions.flatMap((e) => ['-addext', e]);
    openssl(['req', '-x509', '-CA', 'ca.crt', '-CAkey', 'ca.key', ...NEW_KEY, '-keyout', 'k.pem', '-out', 'c.pem', '-subj', subject(cn, orgs), '-days', '7', '-addext', 'basicConstraints=critical,CA:FALSE', ...ext], dir);
    return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
  });
}

export function createPki(name = 'braid-test-ca'): TestPki {
  const ca = inTempDir((dir) => {
    openssl(['req', '-x509', ...NEW_KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', subject(name, []), '-days', '7', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    return { cert: readFileSync(join(dir, 'ca.crt'), 'utf8'), key: readFileSync(join(dir, 'ca.key'), 'utf8') };
  });
  const server = issue(ca, 'kube-apiserver', [], ['subjectAltName=IP:127.0.0.1,DNS:localhost', 'extendedKeyUsage=serverAuth', 'keyUsage=critical,digitalSignature']);
  return {
    ca,
    server,
    issueClient: (user, groups = []) => issue(ca, user, groups, ['extendedKeyUsage=clientAuth', 'keyUsage=critical,digitalSignature']),
  };
}

let shared: TestPki | undefined;

/** This process's CA, made on first use: every server started here trusts the same one. */
export const testPki = (): TestPki => (shared ??= createPki());
