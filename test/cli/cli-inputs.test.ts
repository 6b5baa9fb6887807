// The operator CLI as a new operator meets it, through the built dist/braid: one error style
// ("braid <command>: <flag>: <value>: <problem>"), exit 2 for usage, 1 for failures, and every
// input checked before anything runs or is written.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BRAID, assertBuilt } from '../helpers/braid-runner.js';
import { TestWorld, hostLinks } from '../helpers/netns.js';

let tmp: string;
beforeAll(() => assertBuilt());
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'braid-cli-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

// A hung command is killed here (status null): the checks below fail then, not the suite.
function braid(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Run {
  const r = spawnSync(BRAID, args, { env: { PATH: process.env.PATH!, ...env }, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A usage error: exit 2, one line naming what was wrong, a pointer to --help, nothing on stdout. */
function expectUsage(r: Run, command: string, line: string | RegExp): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const [first, second, ...rest] = r.stderr.trimEnd().split('\n');
  if (typeof line === 'string') expect(first).toBe(`braid ${command}: ${line}`);
  else expect(first).toMatch(line);
  expect(second).toBe(`Run 'braid ${command} --help' for the options.`);
  expect(rest).toEqual([]);
}

describe('one flag parser, one error style', () => {
  const commands = ['install', 'manifests', 'daemon', 'net', 'demo', 'validate', 'gc', 'inspect'];

  it.each(commands)('braid %s: an unknown option, an undocumented short flag, a missing value', (cmd) => {
    expectUsage(braid([cmd, '--bogus']), cmd, 'unknown option --bogus');
    expectUsage(braid([cmd, '-n', 'x']), cmd, 'unknown option -n');
    expectUsage(braid([cmd, '--bogus=1']), cmd, 'unknown option --bogus');
  });

  it.each(commands)('braid %s --help prints its help on stdout and exits 0; -h is the same', (cmd) => {
    const long = braid([cmd, '--help']);
    expect(long.status).toBe(0);
    expect(long.stdout).toMatch(new RegExp(`braid ${cmd}`));
    expect(braid([cmd, '-h']).stdout).toBe(long.stdout);
  });

  it('a string flag without its value, a boolean flag with one, a stray argument', () => {
    expectUsage(braid(['install', '--kubeconfig']), 'install', '--kubeconfig needs a value');
    expectUsage(braid(['install', '--kubeconfig', '--watch']), 'install', /^braid install: --kubeconfig needs a value, got the option --watch/);
    expectUsage(braid(['manifests', '--daemon=yes']), 'manifests', '--daemon takes no value, got "yes"');
    expectUsage(braid(['manifests', 'extra']), 'manifests', 'unexpected argument "extra"');
  });

  it('an unknown command says so in one line', () => {
    const r = braid(['frob']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`braid: unknown command "frob"\nRun 'braid help' for the commands.\n`);
  });

  it('braid net: an unknown verb, a missing argument and an extra one each say what was wrong', () => {
    expectUsage(braid(['net', 'frob']), 'net', 'unknown verb "frob" (one of add, check, del, status, gc)');
    expectUsage(braid(['net']), 'net', 'no verb given (one of add, check, del, status, gc)');
    expectUsage(braid(['net', 'add', 'mynet']), 'net', 'add needs <network-name-or-file> <netns-path>');
    expectUsage(braid(['net', 'status', 'mynet', 'extra']), 'net', 'unexpected argument "extra" (usage: braid net status <network-name-or-file>)');
  });
});

describe('braid install checks its paths and kubeconfig before it copies or writes anything', () => {
  let conf: string;
  let bin: string;
  beforeEach(() => {
    conf = join(tmp, 'net.d');
    bin = join(tmp, 'bin');
    mkdirSync(conf);
  });
  const install = (...args: string[]) => braid(['install', '--cni-conf-dir', conf, '--cni-bin-dir', bin, ...args]);
  const nothingWritten = () => {
    expect(readdirSync(conf)).toEqual([]);
    expect(readdirSync(tmp)).not.toContain('bin');
  };

  it('a misspelled --cni-conf-dir whose parent does not exist fails at once, not after --wait-timeout', () => {
    const r = install('--cni-conf-dir', join(tmp, 'etc/cni/net.dd'));
    // With the default --wait-timeout of 600 s: it exits on its own, well before the kill above.
    expectUsage(r, 'install', `--cni-conf-dir: ${join(tmp, 'etc/cni/net.dd')}: no such directory, nor its parent ${join(tmp, 'etc/cni')}`);
    nothingWritten();
  });

  it('a --cni-conf-dir that is a file fails; a missing one under an existing parent is waited for, and says so', () => {
    writeFileSync(join(tmp, 'afile'), 'x');
    expectUsage(install('--cni-conf-dir', join(tmp, 'afile')), 'install', `--cni-conf-dir: ${join(tmp, 'afile')}: not a directory (a file)`);
    const r = install('--cni-conf-dir', join(tmp, 'later'), '--wait-timeout', '1');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`braid install: ${join(tmp, 'later')} does not exist yet; waiting up to 1 s for one to appear`);
    expect(r.stderr).toContain(`(${join(tmp, 'later')} still does not exist: is --cni-conf-dir right?)`);
  });

  it('a --cni-bin-dir that is a file gets a clear message, not EEXIST', () => {
    writeFileSync(join(tmp, 'bin'), 'not a dir');
    const r = install();
    expectUsage(r, 'install', `--cni-bin-dir: ${bin}: not a directory (a file)`);
    expect(r.stderr).not.toContain('EEXIST');
    expect(readdirSync(conf)).toEqual([]);
  });

  it.each([
    ['not YAML at all', '{"clusters": [', /does not parse as YAML/],
    ['a YAML list', '- a\n- b\n', /not a kubeconfig \(not a YAML mapping\)/],
    ['an /etc/hosts-like file', '127.0.0.1 localhost\n', /not a kubeconfig \(not a YAML mapping\)/],
    ['a kubeconfig without contexts', 'apiVersion: v1\nkind: Config\nclusters: []\n', /no current-context/],
    ['a current-context that is not there', 'current-context: x\ncontexts: []\n', /current-context "x" is not in its contexts/],
    ['a cluster without a server', 'current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: [{name: c, cluster: {}}]\n', /cluster "c" has no server URL/],
  ])('--kubeconfig with %s exits 2 up front and writes nothing', (_what, text, problem) => {
    writeFileSync(join(conf, '10-net.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'bridge' }] }));
    const kc = join(tmp, 'kubeconfig');
    writeFileSync(kc, text);
    const r = install('--kubeconfig', kc);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^braid install: --kubeconfig: ${kc}: `));
    expect(r.stderr.split('\n')[0]).toMatch(problem);
    expect(readdirSync(conf)).toEqual(['10-net.conflist']);
    expect(readdirSync(tmp)).not.toContain('bin');
  });

  it('--kubeconfig naming a file that is missing, or a directory', () => {
    expectUsage(install('--kubeconfig', join(tmp, 'nope')), 'install', `--kubeconfig: ${join(tmp, 'nope')}: no such file`);
    expectUsage(install('--kubeconfig', tmp), 'install', `--kubeconfig: ${tmp}: not a file (a directory)`);
  });

  it('without a kubeconfig it does not claim that annotations are ignored', () => {
    writeFileSync(join(conf, '10-net.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'bridge' }] }));
    const r = install('--networks-dir', join(tmp, 'networks'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/ignore/);
    expect(r.stderr).toContain(`pod annotations the runtime passes (io.kubernetes.cri.pod-annotations) still select networks from ${join(tmp, 'networks')}`);
  });
});

describe('braid net add with a netns that is not there runs nothing and leaves nothing', () => {
  let world: TestWorld;
  beforeEach(() => {
    world = new TestWorld();
  });
  afterEach(() => world.cleanup());

  it.each([
    ['a path that does not exist', (w: TestWorld) => `/var/run/netns/${w.name('gone')}`, 'no such network namespace'],
    ['a file that is not a namespace', (w: TestWorld) => w.dir('plain'), 'not a network namespace (e.g. /var/run/netns/NAME or /proc/PID/ns/net)'],
  ])('%s', (_what, netnsOf, problem) => {
    writeFileSync(world.dir('plain'), '');
    const netns = netnsOf(world);
    const bridge = world.name('br');
    const list = world.dir('net.conflist');
    const dataDir = world.dir('ipam');
    // bridge creates its host bridge before it enters the namespace: the trace a late check leaves.
    writeFileSync(
      list,
      JSON.stringify({ cniVersion: '1.0.0', name: world.name('n'), plugins: [{ type: 'bridge', bridge, ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '198.18.231.0/24' }]] } }] }),
    );
    const r = braid(['net', 'add', list, netns], { CNI_PATH: '/usr/lib/cni', CNI_CACHE_DIR: world.dir('cache') });
    expectUsage(r, 'net', `${netns}: ${problem}`);
    expect(hostLinks()).not.toContain(bridge);
    expect(readdirSync(world.tmp).sort()).toEqual(['net.conflist', 'plain']);
  });

  it('a real namespace passes the check (the namespace files of /proc too)', () => {
    const r = braid(['net', 'check', join(tmp, 'none.conflist'), '/proc/self/ns/net'], { CNI_PATH: '/usr/lib/cni' });
    // Past the netns check, the missing conflist is a CNI error (exit 1), not a usage error.
    expect(r.status, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).msg).toContain('none.conflist');
  });
});

describe('braid daemon checks its config and socket up front', () => {
  const config = () => {
    const file = join(tmp, 'braid.conf');
    writeFileSync(file, JSON.stringify({ type: 'braid', clusterNetwork: tmp, cniDir: join(tmp, 'cni'), logToStderr: true }));
    return file;
  };

  it('a socket path under /proc fails fast instead of spinning', () => {
    const r = braid(['daemon', '--config', config(), '--socket', '/proc/nope/s.sock']);
    // It exits by itself (a spinning daemon would be killed: status null).
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain('braid daemon: cannot create /proc/nope for the socket: ENOENT');
  });

  it.each([
    ['a file', (d: string) => (writeFileSync(join(d, 'f'), ''), join(d, 'f')), (p: string) => `${p}: exists and is not a socket (a file)`],
    ['under a file', (d: string) => (writeFileSync(join(d, 'f'), ''), join(d, 'f/s.sock')), (p: string) => `${p}: a parent of it is not a directory`],
    ['too long for sun_path', (d: string) => join(d, 'x'.repeat(120)), (p: string) => `${p}: longer than the 107 bytes a unix socket path may have`],
  ])('--socket naming %s is a usage error', (_what, make, message) => {
    const p = make(tmp);
    expectUsage(braid(['daemon', '--config', config(), '--socket', p]), 'daemon', `--socket: ${message(p)}`);
  });

  it('--config naming a missing file is a usage error; a missing --config too', () => {
    expectUsage(braid(['daemon', '--config', join(tmp, 'nope.conf')]), 'daemon', `--config: ${join(tmp, 'nope.conf')}: no such file`);
    expectUsage(braid(['daemon']), 'daemon', '--config FILE is required');
  });

  it('its log lines carry each key once', async () => {
    const socket = join(tmp, 'run/braid.sock');
    const child = spawn(BRAID, ['daemon', '--config', config(), '--socket', socket], { env: { PATH: process.env.PATH! }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const end = Date.now() + 20_000;
    while (!stderr.includes('braid daemon serving') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    await exited;
    const lines = stderr.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.some((l) => l.includes('braid daemon serving'))).toBe(true);
    for (const line of lines) {
      const keys = [...line.matchAll(/[{,]"([^"]+)":/g)].map((m) => m[1]);
      expect(keys.length, line).toBe(new Set(keys).size);
    }
  });
});

describe('the V8 code cache', () => {
  it('uses a fixed set of file names, whatever CNI_COMMAND a caller passes', () => {
    const cache = join(tmp, 'v8');
    for (const command of ['FROB', 'ADD;rm', '../../x', 'VERSION']) {
      spawnSync(BRAID, [], { env: { PATH: process.env.PATH!, BRAID_COMPILE_CACHE: cache, CNI_COMMAND: command }, input: '{}', encoding: 'utf8' });
    }
    spawnSync(BRAID, ['--version'], { env: { PATH: process.env.PATH!, BRAID_COMPILE_CACHE: cache } });
    const flavours = new Set(readdirSync(cache).map((f) => f.split('-')[1]));
    expect(flavours).toEqual(new Set(['other', 'VERSION', 'cli']));
    for (const f of readdirSync(cache)) expect(f).toMatch(/^(app|heavy)-(ADD|DEL|CHECK|STATUS|GC|VERSION|cli|other)-[0-9a-f]+-v[\d.]+-\w+\.v8$/);
    expect(readFileSync(join(cache, readdirSync(cache)[0]!)).length).toBeGreaterThan(0);
  });
});
