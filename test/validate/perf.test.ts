// Issue 4: validating 1,000 conflists takes a couple of seconds at most. In-process here (the
// benchmark in test/bench/validate-bench.mjs times the bundled binary, process start included).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateTexts, REPO } from './helpers.js';

describe('performance', () => {
  it('validates 1,000 conflists in well under 2 seconds', async () => {
    const dir = join(REPO, 'delegates');
    const templates = readdirSync(dir).filter((f) => f.endsWith('.conflist')).map((f) => readFileSync(join(dir, f), 'utf8'));
    const files: Record<string, string> = {};
    for (let i = 0; i < 1000; i++) {
      const v4 = `10.${i >> 8}.${i & 255}`;
      files[`${i}.conflist`] = templates[i % templates.length]!
        .replace(/"name": "[^"]+"/, `"name": "perf-${i}"`)
        .replace(/198\.18\.\d+/g, v4)
        .replace(/fd00:198:18:6::/g, `fd00:${i.toString(16)}::`);
    }
    await validateTexts({ 'warm.conflist': templates[0]! }); // compile the schemas once
    const t = performance.now();
    const { findings } = await validateTexts(files);
    const seconds = (performance.now() - t) / 1000;
    expect(findings).toEqual([]);
    expect(seconds).toBeLessThan(2);
  });
});
