// Configs other people wrote (test/validate/real-world, sources in SOURCES.tsv), each held to the
// verdict VERDICTS.md justifies from the plugin's real behaviour; and Go's YAML parser, through
// kubectl, as the judge of what is a YAML syntax error.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS, REPO, validatePaths } from './helpers.js';

const DIR = join(REPO, 'test', 'validate', 'real-world');
const FILES = readdirSync(DIR).filter((f) => f !== 'SOURCES.tsv' && f !== 'VERDICTS.md');

interface Verdict {
  file: string;
  verdict: 'clean' | 'warning' | 'error';
  findings: string[];
}

const VERDICTS: Verdict[] = readFileSync(join(DIR, 'VERDICTS.md'), 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('| ') && !l.startsWith('| File') && !l.startsWith('|---'))
  .map((l) => {
    const [file, verdict, findings] = l.split(' | ').map((c) => c.replace(/^\| /, '').trim());
    return { file: file!, verdict: verdict as Verdict['verdict'], findings: findings ? findings.split(/,\s*/).filter(Boolean) : [] };
  });

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

describe('real-world corpus', () => {
  it('every file has its source recorded and a verdict', () => {
    const sources = readFileSync(join(DIR, 'SOURCES.tsv'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split('\t')[3]);
    expect(FILES.filter((f) => !sources.includes(f))).toEqual([]);
    expect(FILES.filter((f) => !VERDICTS.some((v) => v.file === f))).toEqual([]);
    expect(FILES.length).toBeGreaterThanOrEqual(120);
  });

  it.each(VERDICTS.map((v) => [v.file, v] as const))('%s', async (_file, v) => {
    const { findings } = await validatePaths([join(DIR, v.file)]);
    const errors = findings.filter((f) => f.severity === 'error');
    const warnings = findings.filter((f) => f.severity === 'warning');
    const shown = JSON.stringify(findings.map((f) => `${f.severity} ${f.code} ${f.pointer} ${f.message}`), null, 1);
    if (v.verdict === 'error') {
      // each expected error, at its field; no other error
      expect(errors.map((f) => `${f.code}${f.pointer ? ` ${f.pointer.replace(/^\/spec\/config(?=\/)/, '')}` : ''}`).sort(), shown).toEqual(
        expect.arrayContaining(v.findings.map((x) => x.trim())),
      );
      expect(new Set(errors.map((f) => f.code)), shown).toEqual(new Set(v.findings.map((x) => x.split(' ')[0])));
    } else {
      expect(errors, shown).toEqual([]);
      expect(new Set(warnings.map((f) => f.code)), shown).toEqual(new Set(v.verdict === 'warning' ? v.findings : []));
    }
  });

  it.skipIf(!kubectl)("a YAML syntax error exactly where kubectl (Go's YAML parser) finds one", async () => {
    // kubectl reads every file before it needs a server: "error parsing" is its YAML verdict.
    const tmp = mkdtempSync(join(tmpdir(), 'braid-kubectl-yaml-'));
    const yamls = [...FILES.map((f) => join(DIR, f)), ...readdirSync(CORPUS).map((f) => join(CORPUS, f))].filter((p) => /\.ya?ml$/.test(p));
    let stderr: string;
    try {
      for (const p of yamls) copyFileSync(p, join(tmp, basename(p)));
      stderr = spawnSync('kubectl', ['create', '--dry-run=client', '-o', 'json', '--validate=false', '--server=http://127.0.0.1:9', '-f', tmp], { encoding: 'utf8', timeout: 60_000 }).stderr;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    const rejected = [...stderr.matchAll(/error parsing (\S+?):/g)].map((m) => basename(m[1]!)).sort();
    expect(new Set([...stderr.matchAll(/unable to recognize "([^"]+)"/g)].map((m) => m[1])).size + rejected.length).toBeGreaterThan(40); // kubectl did read them
    const flagged: string[] = [];
    for (const p of yamls) {
      const { findings } = await validatePaths([p]);
      if (findings.some((f) => f.code === 'BRD102' || f.code === 'BRD107')) flagged.push(basename(p));
    }
    expect(flagged.sort()).toEqual(rejected);
  });
});
