// A failing delegate in the middle of a chain: ADD returns its code, the runtime's
// follow-up DEL cleans what the earlier plugins did; crash/hang/garbage map to clear errors.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { NO_TRACES, TestWorld, CNI_BIN, ifaceIn, traces } from '../helpers/netns.js';
import { makeList, runtime, trackedEngine } from '../helpers/engine-fixture.js';

const FAKE = join(import.meta.dirname, '../fixtures/plugins/fake-plugin');
let world: TestWorld;
let bin: string;
beforeEach(() => {
  world = new TestWorld();
  bin = world.dir('bin');
  mkdirSync(bin, { recursive: true });
  copyFileSync(FAKE, join(bin, 'fake'));
});
afterEach(() => world.cleanup());

function chain(octet: number, fake: Record<string, string>) {
  const dataDir = world.dir('ipam');
  const list = makeList({
    cniVersion: '1.0.0',
    name: world.name('f'),
    plugins: [
      { type: 'bridge', bridge: world.name('fbr'), isGateway: true, ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: `198.18.${octet}.0/24` }]] } },
      { type: 'fake', fake },
      { type: 'tuning', mtu: 1300 },
    ],
  });
  return { list, dataDir };
}

describe('a delegate failing mid-chain', () => {
  it('surfaces the delegate code 7 (not 999) and the follow-up DEL cleans up', async () => {
    const ns = world.netns();
    const { list, dataDir } = chain(20, { add: 'error:7' });
    const engine = trackedEngine(world, { path: [bin, CNI_BIN] });
    const rt = runtime(ns.path);
    await expect(engine.addList(list, rt)).rejects.toMatchObject({
      code: 7,
      message: expect.stringContaining('plugin fake failed (add): injected failure'),
    });
    expect(ifaceIn(ns.name, 'eth0')).toBeDefined(); // bridge ran before the failure
    await engine.delList(list, rt);
    expect(ifaceIn(ns.name, 'eth0')).toBeUndefined();
    expect(traces({ tag: world.tag, containerIds: [rt.containerId], dataDirs: [dataDir] })).toEqual(NO_TRACES);
  });

  it.each([
    ['garbage', 999, /unparsable output "panic: runtime error/],
    ['silent', 999, /exited with status 1 with no error message/],
    ['crash', 999, /killed by SIGKILL/],
  ])('maps a %s delegate to code %i with a clear message', async (mode, code, msg) => {
    const ns = world.netns();
    const { list } = chain(21, { add: mode });
    const engine = trackedEngine(world, { path: [bin, CNI_BIN] });
    const rt = runtime(ns.path);
    await expect(engine.addList(list, rt)).rejects.toMatchObject({ code, message: expect.stringMatching(msg) });
    await engine.delList(list, rt);
  });

  it('kills a hung delegate at the timeout', async () => {
    const ns = world.netns();
    const { list } = chain(22, { add: 'hang' });
    const engine = trackedEngine(world, { path: [bin, CNI_BIN], timeoutMs: 1500 });
    const rt = runtime(ns.path);
    const t0 = Date.now();
    await expect(engine.addList(list, rt)).rejects.toMatchObject({ message: expect.stringMatching(/timed out after 2s/) });
    expect(Date.now() - t0).toBeLessThan(10_000);
    await engine.delList(list, rt);
    expect(ifaceIn(ns.name, 'eth0')).toBeUndefined();
  });

  it('DEL tries every plugin even when one fails, and reports the failure', async () => {
    const ns = world.netns();
    const { list, dataDir } = chain(23, { del: 'error:11' });
    const engine = trackedEngine(world, { path: [bin, CNI_BIN] });
    const rt = runtime(ns.path);
    await engine.addList(list, rt);
    await expect(engine.delList(list, rt)).rejects.toMatchObject({ code: 11 });
    // bridge (before fake in the list, so after it in DEL order) still released its IP
    expect(ifaceIn(ns.name, 'eth0')).toBeUndefined();
    expect(traces({ tag: 'none', containerIds: [rt.containerId], dataDirs: [dataDir] })).toEqual(NO_TRACES);
  });

  it('finds plugins only in the configured directories', async () => {
    const ns = world.netns();
    const engine = new Engine({ path: [CNI_BIN], cacheDir: world.dir('cache') });
    for (const type of ['../../bin/sh', '/bin/sh', 'sh']) {
      const list = makeList({ cniVersion: '1.0.0', name: world.name('p'), plugins: [{ type: 'bridge' }] });
      list.plugins[0]!.type = type;
      await expect(engine.addList(list, runtime(ns.path))).rejects.toMatchObject({ code: 7 });
    }
  });
});
