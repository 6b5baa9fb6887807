// The daemon's semaphore and locks, deterministically (no processes, no timers but ticks).
import { describe, expect, it } from 'vitest';
import { KeyedMutex, OperationLocks, RwLock, Semaphore, limitExec, lockKind } from '../../src/daemon/limiter.js';
import type { ExecRequest } from '../../src/engine/exec-plugin.js';

const tick = () => new Promise((r) => setImmediate(r));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Semaphore', () => {
  it('admits at most `limit` holders, FIFO, and hands slots over on release', async () => {
    const sem = new Semaphore(2);
    const order: number[] = [];
    const gates = [0, 1, 2, 3].map(() => deferred());
    const runs = gates.map((g, i) => sem.run(async () => (order.push(i), await g.promise)));
    await tick();
    expect(order).toEqual([0, 1]);
    expect(sem.inUse).toBe(2);
    expect(sem.waiting).toBe(2);
    gates[1]!.resolve();
    await tick();
    expect(order).toEqual([0, 1, 2]);
    gates[0]!.resolve();
    gates[2]!.resolve();
    gates[3]!.resolve();
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(sem.inUse).toBe(0);
  });

  it('releases its slot when the work throws', async () => {
    const sem = new Semaphore(1);
    await expect(sem.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(sem.inUse).toBe(0);
  });

  it('rejects a nonsense limit', () => {
    expect(() => new Semaphore(0)).toThrow(/positive integer/);
  });

  it('limitExec wraps a PluginExec', async () => {
    const sem = new Semaphore(1);
    let running = 0;
    let max = 0;
    const exec = limitExec(async () => {
      max = Math.max(max, ++running);
      await tick();
      running--;
      return { ok: true };
    }, sem);
    const req = { pluginPath: '/x', command: 'ADD', path: [], stdin: '{}' } as ExecRequest;
    expect(await Promise.all([exec(req), exec(req), exec(req)])).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(max).toBe(1);
  });
});

describe('KeyedMutex', () => {
  it('serialises one key, not different keys, and forgets idle keys', async () => {
    const m = new KeyedMutex();
    const events: string[] = [];
    const hold = async (key: string, tag: string, g: Promise<void>) => {
      const release = await m.acquire(key);
      events.push(`+${tag}`);
      await g;
      events.push(`-${tag}`);
      release();
    };
    const [a, b, c] = [deferred(), deferred(), deferred()];
    const all = Promise.all([hold('k', 'a', a.promise), hold('k', 'b', b.promise), hold('other', 'c', c.promise)]);
    await tick();
    expect(events).toEqual(['+a', '+c']);
    b.resolve();
    await tick();
    expect(events).toEqual(['+a', '+c']); // b still waits for a
    a.resolve();
    c.resolve();
    await all;
    expect(events).toEqual(['+a', '+c', '-a', '-c', '+b', '-b']);
    expect(m.size).toBe(0);
  });
});

describe('RwLock', () => {
  it('excludes readers while a writer holds it, and a queued writer blocks new readers', async () => {
    const l = new RwLock();
    const events: string[] = [];
    const r1 = await l.shared();
    const w = l.exclusive().then((rel) => (events.push('w'), rel));
    const r2 = l.shared().then((rel) => (events.push('r2'), rel));
    await tick();
    expect(events).toEqual([]); // the writer waits for r1; r2 waits behind the writer
    r1();
    const wRel = await w;
    await tick();
    expect(events).toEqual(['w']);
    wRel();
    (await r2)();
    expect(events).toEqual(['w', 'r2']);
  });

  it('lets every reader queued behind a writer go together when it leaves', async () => {
    const l = new RwLock();
    const w = await l.exclusive();
    const readers = [l.shared(), l.shared(), l.shared()];
    const w2 = l.exclusive();
    let w2Got = false;
    void w2.then(() => (w2Got = true));
    w();
    const rels = await Promise.all(readers);
    expect(w2Got).toBe(false);
    for (const r of rels) r();
    (await w2)();
    expect(w2Got).toBe(true);
  });
});

describe('OperationLocks', () => {
  it('maps verbs to locks', () => {
    expect(['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION', undefined].map(lockKind)).toEqual(['container', 'container', 'container', 'exclusive', 'none', 'none', 'none']);
  });

  it('runs GC alone, and STATUS/VERSION without waiting', async () => {
    const locks = new OperationLocks();
    const events: string[] = [];
    const gate = deferred();
    const add = locks.run('ADD', 'c1', async () => (events.push('add+'), await gate.promise, events.push('add-')));
    await tick();
    const gc = locks.run('GC', undefined, async () => void events.push('gc'));
    const status = locks.run('STATUS', undefined, async () => void events.push('status'));
    await status;
    expect(events).toEqual(['add+', 'status']);
    gate.resolve();
    await Promise.all([add, gc]);
    expect(events).toEqual(['add+', 'status', 'add-', 'gc']);
    expect(locks.busyContainers).toBe(0);
  });
});
