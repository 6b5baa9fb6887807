// The binary layer without --cni-path or CNI_PATH: the default plugin dirs, asked only about cniVersions.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

describe('without --cni-path or CNI_PATH', () => {
  it('asks the binaries in the default dirs about the cniVersion, and ignores missing ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'braid-implicit-'));
    try {
      const file = join(dir, 'v11.conflist');
      writeFileSync(file, JSON.stringify({ cniVersion: '1.1.0', name: 'v11', plugins: [{ type: 'bridge', ipam: { type: 'host-local', subnet: '198.18.9.0/24' } }, { type: 'not-installed-here' }] }));
      const { validateMain } = await import('../../src/validate/cli.js');
      const saved = process.env.CNI_PATH;
      delete process.env.CNI_PATH;
      const out: string[] = [];
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (out.push(String(c)), true));
      try {
        expect(await validateMain(['--format', 'json', file])).toBe(existsSync('/usr/lib/cni/bridge') ? 1 : 0);
      } finally {
        spy.mockRestore();
        if (saved !== undefined) process.env.CNI_PATH = saved;
      }
      const codes = JSON.parse(out.join('')).findings.map((f: { code: string }) => f.code);
      expect(codes).not.toContain('BRD401'); // not-installed-here may live on other nodes
      if (existsSync('/usr/lib/cni/bridge')) expect(codes).toContain('BRD403'); // v1.1.1 plugins stop at 1.0.0
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
