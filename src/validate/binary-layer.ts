// Binary layer (libcni ValidateNetworkList): each plugin (and IPAM) binary exists in the CNI
// path, is executable, and its VERSION answer lists the config's cniVersion. Each binary is
// probed once per run, all probes in parallel.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { isObject } from './classify.js';
import type { FindingSink } from './finding.js';
import { fieldPath } from './json-pointer.js';
import { pluginsOf } from './schema-layer.js';
import type { NetworkFacts } from './semantic-layer.js';

export interface VersionAnswer {
  supported?: string[];
  error?: string;
}

/** The seam tests replace: ask one binary which spec versions it supports. */
export type VersionProbe = (path: string) => Promise<VersionAnswer>;

type Located = { path: string; executable: boolean } | undefined;

const PROBE_TIMEOUT_MS = 5000;

export const execVersionProbe: VersionProbe = (path) =>
  new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { CNI_COMMAND: 'VERSION', PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
    let child;
    try {
      child = spawn(path, [], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: PROBE_TIMEOUT_MS });
    } catch (e) {
      resolve({ error: (e as Error).message });
      return;
    }
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => resolve({ error: e.message }));
    child.on('close', (code, signal) => resolve(decodeVersion(out, err, code, signal)));
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify({ cniVersion: '1.1.0' }));
  });

/** libcni's PluginDecoder: an answer without cniVersion means the plugin supports 0.1.0 only. */
export function decodeVersion(stdout: string, stderr: string, code: number | null, signal: NodeJS.Signals | null): VersionAnswer {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    const why = signal ? `was killed by ${signal}` : `exited ${code}`;
    return { error: `VERSION ${why} without a JSON answer${stderr.trim() ? `: ${stderr.trim().slice(0, 200)}` : ''}` };
  }
  if (!isObject(doc)) return { error: 'VERSION answer is not a JSON object' };
  if (code !== 0 || typeof doc.code === 'number') return { error: `VERSION failed: ${typeof doc.msg === 'string' ? doc.msg : `exit ${code}`}` };
  if (typeof doc.cniVersion !== 'string' || doc.cniVersion === '') return { supported: ['0.1.0'] };
  const list = Array.isArray(doc.supportedVersions) ? doc.supportedVersions.filter((v): v is string => typeof v === 'string') : [];
  return { supported: list.length ? list : [doc.cniVersion] };
}

export class BinaryChecker {
  private readonly located = new Map<string, Located>();
  private readonly answers = new Map<string, Promise<VersionAnswer>>();

  constructor(
    private readonly dirs: readonly string[],
    private readonly probe: VersionProbe = execVersionProbe,
  ) {}

  /** pkg/invoke FindInPath: the first regular file of that name; the exec bit is checked after. */
  private locate(type: string): Located {
    if (this.located.has(type)) return this.located.get(type);
    let found: Located;
    if (!/[/\\]/.test(type) && type !== '.' && type !== '..') {
      for (const dir of this.dirs) {
        if (!dir || !isAbsolute(dir)) continue;
        const p = join(dir, type);
        try {
          if (!statSync(p).isFile()) continue;
        } catch {
          continue;
        }
        let executable = true;
        try {
          accessSync(p, constants.X_OK);
        } catch {
          executable = false;
        }
        found = { path: p, executable };
        break;
      }
    }
    this.located.set(type, found);
    return found;
  }

  private answer(path: string): Promise<VersionAnswer> {
    let a = this.answers.get(path);
    if (!a) {
      a = this.probe(path);
      this.answers.set(path, a);
    }
    return a;
  }

  async check(all: readonly NetworkFacts[], sink: FindingSink): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const facts of all) {
      const { net, version } = facts;
      for (const p of pluginsOf(net)) {
        const uses: { type: string; rel: string; what: string }[] = [];
        if (p.type) uses.push({ type: p.type, rel: `${p.rel}/type`, what: 'plugin' });
        if (isObject(p.conf.ipam) && typeof p.conf.ipam.type === 'string' && p.conf.ipam.type) uses.push({ type: p.conf.ipam.type, rel: `${p.rel}/ipam/type`, what: 'IPAM plugin' });
        for (const u of uses) {
          const found = this.locate(u.type);
          if (!found) {
            sink.at(net.scope, 'BRD401', u.rel, `${u.what} ${JSON.stringify(u.type)} (${fieldPath(u.rel)}) was not found in the CNI path ${this.dirs.join(':')}`, 'install the plugin binary on every node, or fix the type');
            continue;
          }
          if (!found.executable) {
            sink.at(net.scope, 'BRD402', u.rel, `${u.what} binary ${found.path} is not executable`, `chmod +x ${found.path}`);
            continue;
          }
          if (!version) continue;
          jobs.push(
            this.answer(found.path).then((ans) => {
              if (ans.error) {
                sink.at(net.scope, 'BRD404', u.rel, `${u.what} ${found.path} did not answer VERSION: ${ans.error}`);
              } else if (ans.supported && !ans.supported.includes(version)) {
                const rel = Array.isArray(net.raw.cniVersions) ? '/cniVersions' : '/cniVersion';
                sink.at(
                  net.scope,
                  'BRD403',
                  rel,
                  `cniVersion ${JSON.stringify(version)} is not supported by ${u.what} ${JSON.stringify(u.type)} (${found.path}), which supports ${ans.supported.join(', ')}`,
                  `use a cniVersion the binary supports (e.g. ${JSON.stringify(ans.supported.at(-1))}), or upgrade the plugin`,
                );
              }
            }),
          );
        }
      }
    }
    await Promise.all(jobs);
  }
}
