// The README's validate section documents every finding code with its severity and layer (no drift).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CODES } from '../../src/validate/codes.js';
import { REPO } from './helpers.js';

it('the README has a row for every finding code', () => {
  const doc = readFileSync(join(REPO, 'README.md'), 'utf8');
  for (const [code, info] of Object.entries(CODES)) {
    expect(doc, code).toContain(`| ${code} | ${info.severity} | ${info.layer} | ${info.summary} |`);
  }
});
