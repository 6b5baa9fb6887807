// Plugin lookup (pkg/invoke/find.go): only in configured directories, never PATH or a
// relative path, so a config can't name a binary outside them (the CNI spec: configuration lists).
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { CniError, Code } from '../cni/errors.js';
import { validatePluginType } from '../cni/names.js';

export function findPlugin(type: string, dirs: readonly string[]): string {
  validatePluginType(type);
  const searched = dirs.filter((d) => d && isAbsolute(d));
  for (const dir of searched) {
    const candidate = join(dir, type);
    try {
      if (statSync(candidate).isFile()) {
        accessSync(candidate, constants.X_OK);
        return candidate;
      }
    } catch {
      // not here; keep looking
    }
  }
  throw new CniError(
    Code.InvalidConfig,
    `failed to find plugin ${JSON.stringify(type)} in path [${searched.join(' ')}]`,
  );
}
