// 1,000 generated conflists validate clean: no false finding at scale. How long it takes is the
// benchmark's business (test/bench/validate-bench.mjs, `npm run bench:validate`), not a test's.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateTexts, REPO } from './helpers.js';

describe('at scale', () => {
  it('1,000 conflists from the delegates catalogue validate clean', async () => {
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
    const { findings, files: checked } = await validateTexts(files);
    expect(findings).toEqual([]);
    expect(checked).toHaveLength(1000);
  });
});
