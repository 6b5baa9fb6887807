// The demo's kernel objects: network namespaces and links, all named with one prefix so a leak
// check (and a later run's cleanup of an interrupted one) can find every one of them.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PREFIX = 'braid-demo-';

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { allowFail?: boolean; input?: string } = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, timeout: 30_000 });
  const out = { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error.message) : '') };
  if (out.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} failed (${out.status}): ${(out.stderr || out.stdout).trim()}`);
  return out;
}

export const ipJson = <T>(args: string[]): T => JSON.parse(run('ip', ['-j', ...args]).stdout || '[]') as T;

export interface Link {
  ifname: string;
  address?: string;
  mtu?: number;
  operstate?: string;
  master?: string;
  linkinfo?: { info_kind?: string };
}

export interface AddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  scope?: string;
}

export const netnsNames = (): string[] => ipJson<Array<{ name: string }>>(['netns', 'list']).map((n) => n.name);
export const hostLinks = (): Link[] => ipJson<Link[]>(['-d', 'link']);
export const nsAddrs = (ns: string) => ipJson<Array<Link & { addr_info: AddrInfo[] }>>(['-n', ns, 'addr']);

export function addNetns(name: string): string {
  run('ip', ['netns', 'add', name]);
  run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return `/var/run/netns/${name}`;
}

export function addVethPair(a: string, b: string): void {
  run('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  run('ip', ['link', 'set', a, 'up']);
  run('ip', ['link', 'set', b, 'up']);
}

export const delNetns = (name: string) => run('ip', ['netns', 'del', name], { allowFail: true });
export const delLink = (name: string) => run('ip', ['link', 'del', name], { allowFail: true });

/** Everything with the prefix: what an interrupted run left, or what this run failed to remove. */
export function prefixed(): { namespaces: string[]; links: string[] } {
  return {
    namespaces: netnsNames().filter((n) => n.startsWith(PREFIX)),
    links: hostLinks()
      .map((l) => l.ifname)
      .filter((n) => n.startsWith(PREFIX)),
  };
}

/** Bridges the bridge plugin made for the demo's networks (it keeps them after DEL, by design). */
export const demoBridges = (): string[] =>
  hostLinks()
    .filter((l) => l.ifname.startsWith(PREFIX) && l.linkinfo?.info_kind === 'bridge')
    .map((l) => l.ifname);

export function removePrefixed(): string[] {
  const { namespaces, links } = prefixed();
  for (const n of namespaces) delNetns(n);
  for (const l of links) delLink(l);
  return [...namespaces, ...links];
}

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
export const readIpForward = () => readFileSync(IP_FORWARD, 'utf8').trim();
export const writeIpForward = (v: string) => writeFileSync(IP_FORWARD, `${v}\n`);

/** One demo at a time: they share names and subnets. A lock whose owner is gone is taken over. */
export function takeLock(path: string): { release: () => void; staleFrom?: number } {
  let staleFrom: number | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        release: () => {
          try {
            if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
          } catch {
            /* already gone */
          }
        },
        ...(staleFrom !== undefined ? { staleFrom } : {}),
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(existsSync(path) ? readFileSync(path, 'utf8').trim() : NaN);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new Error(`another braid demo is running (pid ${pid}); wait for it or stop it`);
      staleFrom = pid;
      unlinkSync(path);
    }
  }
  throw new Error(`cannot take the demo lock ${path}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Work dirs of earlier demos (tmpdir/braid-demo-*): stale whenever this demo holds the lock. */
export const staleWorkDirs = (): string[] =>
  readdirSync(tmpdir())
    .filter((n) => n.startsWith(PREFIX))
    .map((n) => join(tmpdir(), n));

/** Kills what a killed demo left running from its work dir (its API server), then removes the dir. */
export function removeWorkDir(dir: string): void {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').some((a) => a.startsWith(`${dir}/`))) process.kill(Number(p), 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
