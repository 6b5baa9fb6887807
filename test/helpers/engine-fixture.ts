// Runs conflists through the Engine for a test and, in teardown, DELs every attachment the
// test added, even when the test failed half-way, so no rule or reservation outlives it.
import { randomBytes } from 'node:crypto';
import { parseConfList, type NetConfList } from '../../src/cni/config.js';
import { Engine, type EngineOptions, type RuntimeConf } from '../../src/engine/engine.js';
import { CNI_BIN, type TestWorld } from './netns.js';

export function makeList(obj: Record<string, unknown>): NetConfList {
  return parseConfList(obj);
}

/** An Engine whose ADDs are remembered and undone by world.cleanup(). */
export function trackedEngine(world: TestWorld, opts: Partial<EngineOptions> = {}): Engine {
  const engine = new Engine({ path: [CNI_BIN], cacheDir: world.dir('cache'), ...opts });
  const add = engine.addList.bind(engine);
  engine.addList = (list: NetConfList, rt: RuntimeConf) => {
    world.onCleanup(() => engine.delList(list, rt).catch(() => undefined));
    return add(list, rt);
  };
  return engine;
}

export const engineFor = (world: TestWorld, extraPath: string[] = []) =>
  trackedEngine(world, { path: [...extraPath, CNI_BIN] });

export function runtime(netns: string, ifname = 'eth0', capabilityArgs: Record<string, unknown> = {}): RuntimeConf {
  return { containerId: `ctr-${randomBytes(6).toString('hex')}`, netns, ifname, args: [], capabilityArgs };
}
