// Running plugins through braid-spawner (the daemon's and one-shot braid's default when the C
// helper sits beside the bundle) must mean exactly what running them with execa means: the
// same env and stdin in, the same errors out. Every behaviour is checked on both runners, with
// real processes; the spawner's own failure modes (dying mid-run, its input closing) after.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CniError, Code } from '../../src/cni/errors.js';
import { execaExec, makePluginExec, type ExecRequest, type PluginExec, type RawRun } from '../../src/engine/exec-plugin.js';
import { loadSpawner, type Spawner } from '../../src/engine/spawner.js';
import { TestWorld } from '../helpers/netns.js';
import { BRAID } from '../helpers/braid-runner.js';

const SPAWNER = join(import.meta.dirname, '../../dist/braid-spawner');
const built = existsSync(SPAWNER);
if (!built) console.log('skipping braid-spawner tests: dist/braid-spawner was not built (no C compiler)');

let world: TestWorld;
let bin: string;
beforeEach(() => {
  world = new TestWorld();
  bin = world.dir('bin');
  mkdirSync(bin, { recursive: true });
});
afterEach(() => world.cleanup());

const spawners: Spawner[] = [];
afterAll(async () => {
  await Promise.all(spawners.map((s) => s.close()));
});
async function newSpawner(): Promise<Spawner> {
  const s = (await loadSpawner(SPAWNER))!;
  spawners.push(s);
  return s;
}

function plugin(name: string, script: string): string {
  const p = join(bin, name);
  writeFileSync(p, `#!/bin/bash\n${script}\n`);
  chmodSync(p, 0o755);
  return p;
}
const req = (pluginPath: string, extra: Partial<ExecRequest> = {}): ExecRequest => ({ pluginPath, command: 'ADD', containerId: 'c1', netns: '/var/run/netns/x', ifname: 'eth0', path: [bin], stdin: '{"cniVersion":"1.0.0"}', ...extra });
const rejection = async (p: Promise<unknown>): Promise<CniError> => {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CniError);
  return e as CniError;
};
/** Running (a zombie waiting for a reaper counts as gone). */
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
};

const runners: Array<[string, () => Promise<PluginExec>]> = [
  ['execa', async () => execaExec],
  ...(built ? ([['braid-spawner', async () => makePluginExec((await newSpawner()).run)]] as Array<[string, () => Promise<PluginExec>]>) : []),
];

describe.each(runners)('plugins run by %s', (_name, make) => {
  it('get exactly the CNI env (nothing stale), their stdin, and their stdout back', async () => {
    const exec = await make();
    const p = plugin('echoenv', 'in=$(cat)\nprintf \'{"env":"%s","stdin":%s}\' "$(env | grep -E "^CNI_" | sort | tr "\\n" " ")" "$in"');
    process.env.CNI_STALE = 'from braid';
    try {
      const out = (await exec(req(p, { args: 'K8S_POD_NAME=a' }))) as { env: string; stdin: unknown };
      expect(out.stdin).toEqual({ cniVersion: '1.0.0' });
      expect(out.env.trim().split(' ')).toEqual([
        'CNI_ARGS=K8S_POD_NAME=a',
        'CNI_COMMAND=ADD',
        'CNI_CONTAINERID=c1',
        'CNI_IFNAME=eth0',
        'CNI_NETNS=/var/run/netns/x',
        `CNI_PATH=${bin}`,
      ]);
    } finally {
      delete process.env.CNI_STALE;
    }
  });

  it('carry 2 MiB of stdin and 3 MiB of stdout intact (more than a pipe holds)', async () => {
    const exec = await make();
    const big = 'x'.repeat(2 << 20);
    const p = plugin('big', 'n=$(wc -c)\nprintf \'{"got":%s,"pad":"\' "$n"\nhead -c 3145728 /dev/zero | tr "\\0" y\nprintf \'"}\'');
    const out = (await exec(req(p, { stdin: JSON.stringify({ big }) }))) as { got: number; pad: string };
    expect(out.got).toBe(big.length + 10);
    expect(out.pad).toBe('y'.repeat(3 << 20));
  });

  it('keep the plugin\'s error code, and say how a crash or garbage output happened', async () => {
    const exec = await make();
    const failing = plugin('fails', 'cat >/dev/null\necho \'{"cniVersion":"1.0.0","code":7,"msg":"bad subnet","details":"198.18.0.0/33"}\'\nexit 1');
    expect(await rejection(exec(req(failing)))).toMatchObject({ code: 7, message: 'bad subnet', details: '198.18.0.0/33' });
    const crash = plugin('crash', 'cat >/dev/null\necho "panic: oops" >&2\nkill -SEGV $$');
    expect((await rejection(exec(req(crash)))).message).toBe('plugin was killed by SIGSEGV: panic: oops');
    const garbage = plugin('garbage', 'cat >/dev/null\necho "not json"');
    expect(await rejection(exec(req(garbage)))).toMatchObject({ code: Code.DecodeFailure, message: 'plugin succeeded but its output is not JSON: "not json"' });
    const silent = plugin('silent', 'cat >/dev/null');
    expect(await exec(req(silent))).toBeUndefined();
  });

  it('report a binary that cannot be executed with its errno', async () => {
    const exec = await make();
    const notExec = join(bin, 'notexec');
    writeFileSync(notExec, '#!/bin/sh\n');
    chmodSync(notExec, 0o644);
    expect((await rejection(exec(req(notExec)))).message).toBe(`failed to execute plugin ${notExec}: EACCES`);
    expect((await rejection(exec(req(join(bin, 'missing')))))).toMatchObject({ code: 999, message: `failed to execute plugin ${join(bin, 'missing')}: ENOENT` });
  });

  it('retry "text file busy" (a binary being replaced) until it can run', async () => {
    const exec = await make();
    const p = plugin('busy', 'cat >/dev/null\necho \'{"cniVersion":"1.0.0"}\'');
    const fd = openSync(p, 'r+'); // an open writer makes execve fail with ETXTBSY
    setTimeout(() => closeSync(fd), 1200);
    const t0 = Date.now();
    expect(await exec(req(p))).toEqual({ cniVersion: '1.0.0' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  });

  it('are killed at the timeout with everything they started that still holds their stdout', async () => {
    const exec = await make();
    const pidFile = world.dir('grandchild.pid');
    const p = plugin('hangs', `cat >/dev/null\nsleep 300 &\necho $! > ${pidFile}\nwait`);
    const e = await rejection(exec(req(p, { timeoutMs: 500 })));
    expect(e.message).toBe('plugin timed out after 1s and was killed');
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(grandchild)).toBe(false);
  });

  it('are killed when they print more than 16 MiB', async () => {
    const exec = await make();
    const p = plugin('flood', 'cat >/dev/null\nexec cat /dev/zero');
    expect((await rejection(exec(req(p)))).message).toBe('plugin printed more than 16 MiB and was killed');
  });

  it('run side by side, each answer to its own caller', async () => {
    const exec = await make();
    const p = plugin('slow', 'in=$(cat)\nsleep 0.2\necho "$in"');
    const outs = await Promise.all(Array.from({ length: 24 }, (_, i) => exec(req(p, { stdin: JSON.stringify({ i }) }))));
    expect(outs).toEqual(Array.from({ length: 24 }, (_, i) => ({ i })));
  });
});

describe.skipIf(!built)('braid-spawner itself', () => {
  it('is used only when it is there and executable; otherwise braid forks with execa', async () => {
    expect(await loadSpawner(join(bin, 'missing'))).toBeUndefined();
    const copy = join(bin, 'braid-spawner');
    writeFileSync(copy, readFileSync(SPAWNER));
    chmodSync(copy, 0o644); // e.g. copied without its mode
    expect(await loadSpawner(copy)).toBeUndefined();
    chmodSync(copy, 0o755);
    const s = (await loadSpawner(copy))!;
    spawners.push(s);
    expect(await makePluginExec(s.run)(req(plugin('ok', 'cat >/dev/null\necho "{}"')))).toEqual({});
  });

  it('reports each run\'s CPU, from wait4, including what the plugin waited for', async () => {
    const s = await newSpawner();
    const seen: RawRun[] = [];
    const exec = makePluginExec(s.run, (_req, r) => seen.push(r));
    // ~50 ms of CPU in a child of the plugin, so only a count that includes children sees it.
    const p = plugin('burn', 'cat >/dev/null\nbash -c \'i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done\'\necho "{}"');
    await exec(req(p));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.cpuMs).toBeGreaterThan(20);
    expect(execaExec).not.toBe(exec); // execa has no such figure: the daemon's metric needs the spawner
  });

  it('dying mid-run fails that run with code 11 naming the plugin; the next run gets a new spawner', async () => {
    const s = await newSpawner();
    const exec = makePluginExec(s.run);
    const p = plugin('long', 'cat >/dev/null\nsleep 1\necho "{}"');
    const running = exec(req(p));
    await new Promise((r) => setTimeout(r, 200));
    const first = s.pid!;
    process.kill(first, 'SIGKILL');
    const e = await rejection(running);
    expect(e.code).toBe(11);
    expect(e.message).toBe(`braid-spawner killed by SIGKILL while plugin ${p} ran; its outcome is unknown`);
    expect(await exec(req(plugin('quick', 'cat >/dev/null\necho "{}"')))).toEqual({});
    expect(s.pid).not.toBe(first);
    expect(s.starts).toBe(2);
  });

  it('on close, finishes the runs in flight, then exits', async () => {
    const s = await newSpawner();
    const exec = makePluginExec(s.run);
    const p = plugin('finishing', 'cat >/dev/null\nsleep 0.5\necho \'{"done":true}\'');
    const running = exec(req(p));
    await new Promise((r) => setTimeout(r, 100));
    const pid = s.pid!;
    await s.close();
    expect(await running).toEqual({ done: true });
    expect(alive(pid)).toBe(false);
  });

  it.each([
    ['through braid-spawner', {}],
    ['forked by braid itself with BRAID_SPAWNER=0', { BRAID_SPAWNER: '0' }],
  ])('built braid runs its plugins %s, and a spawner neither keeps braid alive nor outlives it, even as a zombie', async (_how, extraEnv: Record<string, string>) => {
    // `braid net` ends by returning from main, not process.exit: an idle spawner's pipes must
    // not hold it open. The plugin records its parent process.
    const parentFile = world.dir('parent');
    plugin('whoami', `cat >/dev/null\necho "$PPID $(cat /proc/$PPID/comm)" > ${parentFile}\necho '{"cniVersion":"1.0.0"}'`);
    const list = world.dir('whoami.conflist');
    writeFileSync(list, JSON.stringify({ cniVersion: '1.0.0', name: world.name('who'), plugins: [{ type: 'whoami' }] }));
    const child = spawn(BRAID, ['net', 'add', list, world.netns().path], {
      env: { PATH: process.env.PATH!, CNI_PATH: bin, CNI_CACHE_DIR: world.dir('cache'), ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', (c) => (clearTimeout(t), resolve(c)));
    });
    expect(code, err).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ cniVersion: '1.0.0' });
    const [pid, comm] = readFileSync(parentFile, 'utf8').trim().split(' ');
    if (extraEnv.BRAID_SPAWNER === '0') {
      expect(Number(pid)).toBe(child.pid);
      return;
    }
    expect(comm).toBe('braid-spawner');
    // braid waited for its spawner before exiting: gone, not even a zombie for init to reap.
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});
