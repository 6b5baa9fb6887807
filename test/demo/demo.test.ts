// `braid demo` end to end, as `npm run demo` runs it, and interrupted half-way:
// either way it must finish its story and leave nothing on the machine.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BRAID } from '../helpers/braid-runner.js';
import { CONTAINERD_SKIP } from '../helpers/containerd.js';
import { hostLinks } from '../helpers/netns.js';
import { sh } from '../helpers/sh.js';

interface DemoRun {
  status: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function demo(opts: { interruptWhen?: (stdout: string) => boolean; signal?: NodeJS.Signals } = {}): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BRAID, 'demo', '--no-color'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!sent && opts.interruptWhen?.(stdout)) {
        sent = true;
        child.kill(opts.signal ?? 'SIGINT');
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, signal, stdout, stderr });
    });
  });
}

/** Everything the demo could leave: namespaces, links, rules for its subnets, its dir, its lock. */
function leftovers(stdout: string): string[] {
  const work = /work dir\s+(\S+)/.exec(stdout)?.[1];
  return [
    ...sh('ip', ['netns', 'list']).split('\n').filter((l) => l.startsWith('braid-demo-')),
    ...hostLinks().filter((l) => l.startsWith('braid-demo-')),
    ...`${sh('iptables-save', [], { allowFail: true })}\n${sh('nft', ['list', 'ruleset'], { allowFail: true })}`
      .split('\n')
      .filter((l) => /198\.19\.1[0-2]\./.test(l)),
    ...(work && existsSync(work) ? [work] : []),
    ...(existsSync('/run/braid-demo.lock') ? ['/run/braid-demo.lock'] : []),
    // containerd's mounts (pod netns, rootfs, shm) and processes (containerd, API server) of the work dir
    ...(work ? readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(work)) : []),
    ...(work ? sh('ps', ['-eo', 'args']).split('\n').filter((l) => l.includes(`${work}/`)) : []),
  ];
}

beforeAll(() => assertBuilt());

describe('braid demo', () => {
  it('runs to the end, shows what a person wants to see, and leaves nothing behind', async () => {
    const r = await demo();
    expect(r.status, r.stdout + r.stderr).toBe(0);
    for (const title of [
      '1. Setup',
      '2. braid install',
      'wrote ',
      '00-braid.conflist',
      'The pods and the networks they select',
      'ADD, the way a runtime does it',
      '✓ demo/alpha: ADD ok',
      '✓ demo/beta: ADD ok',
      'Pod demo/alpha',
      'Pod demo/beta',
      'interfaces: ip -n braid-demo-alpha addr',
      'CNI result braid returned to the runtime',
      'annotation k8s.v1.cni.cncf.io/network-status',
      'Ping from one pod to the other',
      'DEL',
      'Nothing left behind?',
      'nothing left behind ✓',
    ]) {
      expect(r.stdout).toContain(title);
    }
    // the comma-form pod and the JSON-form pod (static IP and MAC) got their networks
    expect(r.stdout).toMatch(/net1\s+02:42:c6:13:0b:14\s+1500\s+198\.19\.11\.20\/24\s+demo\/demo-bridge/);
    expect(r.stdout).toMatch(/mv0\s+\S+\s+1500\s+198\.19\.12\.\d+\/24\s+demo\/demo-macvlan/);
    expect(r.stdout).toMatch(/✓ alpha net1 → beta net1 198\.19\.11\.20 .*: [\d.]+ ms/);
    expect(r.stdout).not.toContain('✗');
    expect(r.stdout).not.toMatch(/\x1b\[/); // no colour off a terminal
    if (CONTAINERD_SKIP) {
      expect(r.stdout).toContain("braid's built-in runtime");
    } else {
      // The pods came from containerd's CRI plugin running the entry braid install wrote.
      expect(r.stdout).toMatch(/container runtime\s+containerd, a private instance/);
      expect(r.stdout).toMatch(/✓ demo\/alpha: ADD ok in \d+ ms \(RunPodSandbox, sandbox [0-9a-f]{12}\)/);
      expect(r.stdout).toContain('containerd reports pod IP 198.19.10.');
    }
    expect(leftovers(r.stdout)).toEqual([]);
  }, 120_000);

  it('cleans up when interrupted half-way (Ctrl-C)', async () => {
    const r = await demo({ interruptWhen: (out) => out.includes('demo/alpha: ADD ok') });
    expect(r.status, r.stdout + r.stderr).toBe(130);
    expect(r.stderr).toContain('SIGINT: finishing the current step, then cleaning up');
    expect(r.stdout).toContain('interrupted: cleaning up');
    expect(r.stdout).toContain('nothing left behind ✓');
    expect(r.stdout).not.toContain('Ping from one pod');
    expect(leftovers(r.stdout)).toEqual([]);
  }, 120_000);

  it.skipIf(!!CONTAINERD_SKIP)('after a demo killed with SIGKILL, the next one removes the pods and containerd it left', async () => {
    const killed = await demo({ interruptWhen: (out) => out.includes('demo/alpha: ADD ok'), signal: 'SIGKILL' });
    expect(killed.signal).toBe('SIGKILL');
    const work = /work dir\s+(\S+)/.exec(killed.stdout)?.[1];
    const r = await demo();
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`removed the pods and containerd an earlier, killed demo left in ${work}`);
    expect(leftovers(killed.stdout)).toEqual([]);
    expect(leftovers(r.stdout)).toEqual([]);
  }, 180_000);
});
