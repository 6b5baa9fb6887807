// delegates/ and annotations/ are the published examples: they must validate clean, warnings
// included, and against the real plugin binaries when the machine has them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../src/validate/ip-utils.js';
import { REPO, runCli, validatePaths } from './helpers.js';

const DELEGATES = join(REPO, 'delegates');
const ANNOTATIONS = join(REPO, 'annotations');
const CNI_BIN = '/usr/lib/cni';

describe('example catalogue', () => {
  it('delegates/ and annotations/ have no findings, together and apart', async () => {
    for (const paths of [[DELEGATES], [ANNOTATIONS], [DELEGATES, ANNOTATIONS]]) {
      const { findings } = await validatePaths(paths);
      expect(findings).toEqual([]);
    }
  });

  it.runIf(existsSync(join(CNI_BIN, 'bridge')))('passes the binary layer against the reference plugins', async () => {
    const { findings } = await validatePaths([DELEGATES, ANNOTATIONS], { cniPath: [CNI_BIN] });
    expect(findings).toEqual([]);
  });

  it('exits 0 under --strict', async () => {
    const r = await runCli(['--strict', DELEGATES, ANNOTATIONS]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('delegates: one shape per file, unique names, subnets from 198.18.0.0/15, placeholder devices', () => {
    const files = readdirSync(DELEGATES).filter((f) => f.endsWith('.conflist'));
    expect(files.length).toBeGreaterThanOrEqual(6);
    const names = new Set<string>();
    const types = new Set<string>();
    const bench = parseCidr('198.18.0.0/15')!;
    for (const f of files) {
      const text = readFileSync(join(DELEGATES, f), 'utf8');
      const conf = JSON.parse(text) as { name: string; plugins: { type: string }[] };
      expect(names.has(conf.name)).toBe(false);
      names.add(conf.name);
      for (const p of conf.plugins) types.add(p.type);
      for (const m of text.matchAll(/"subnet":\s*"([^"]+)"/g)) {
        const c = parseCidr(m[1])!;
        if (c.family === 4) expect(c.network >= bench.network && c.last <= bench.last, m[1]).toBe(true);
      }
      for (const m of text.matchAll(/"(?:master|device|bridge)":\s*"([^"]+)"/g)) expect(m[1]).toMatch(/^braid-/);
    }
    for (const t of ['bridge', 'macvlan', 'ipvlan', 'ptp', 'host-device', 'tuning', 'bandwidth', 'firewall', 'portmap', 'sbr']) expect(types).toContain(t);
  });

  it('annotations: both forms of the networks annotation, and a pod template', () => {
    const all = readdirSync(ANNOTATIONS).map((f) => readFileSync(join(ANNOTATIONS, f), 'utf8')).join('\n');
    expect(all).toMatch(/k8s\.v1\.cni\.cncf\.io\/networks: braid-/); // comma form
    expect(all).toMatch(/k8s\.v1\.cni\.cncf\.io\/networks: (\||')\s*\[/); // JSON form
    expect(all).toMatch(/kind: Deployment/);
    expect(all).toMatch(/kind: NetworkAttachmentDefinition/);
  });
});
