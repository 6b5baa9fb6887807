// The usual frame of a test that drives dist/braid: one loopback API server per file, a fresh
// TestWorld per test, a clean request log and no faults; teardown even when the test fails.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../k8s-api/server.js';
import { assertBuilt } from './braid-runner.js';
import { TestWorld } from './netns.js';

export interface ApiWorld {
  api: FakeApiServer;
  world: TestWorld;
}

export function useApiWorld(): ApiWorld {
  const t = {} as ApiWorld;
  beforeAll(async () => {
    assertBuilt();
    t.api = await startFakeApiServer();
  });
  afterAll(() => t.api.close());
  beforeEach(() => {
    t.world = new TestWorld();
    t.api.reset();
    t.api.clearFaults();
  });
  afterEach(async () => {
    t.api.clearFaults();
    await t.world.cleanup();
  });
  return t;
}
