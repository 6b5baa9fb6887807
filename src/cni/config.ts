// Network configuration (list) wire shapes (SPEC.md "Configuration format"). Unknown keys pass
// through untouched: the raw objects are what braid sends to delegates.
import * as z from './zod.js';
import { CniError, Code, decodeFailure } from './errors.js';
import { validateNetworkName, validatePluginType } from './names.js';
import { pickVersion, type SpecVersion } from './version.js';
import { issuesToError } from './zod-issues.js';

// libcni accepts "true"/"false" strings for these, case-insensitively (libcni/conf.go readBool).
const boolish = z.union([
  z.boolean(),
  z
    .string()
    .refine((s) => /^(true|false)$/i.test(s), 'must be true or false')
    .transform((s) => s.toLowerCase() === 'true'),
]);

export const IpamSchema = z.looseObject({ type: z.string().min(1) });

export const PluginConfSchema = z.looseObject({
  type: z.string().min(1, 'type is required'),
  name: z.string().optional(),
  cniVersion: z.string().optional(),
  capabilities: z.record(z.string(), z.boolean()).optional(),
  ipam: IpamSchema.optional(),
  dns: z
    .looseObject({
      nameservers: z.array(z.string()).optional(),
      domain: z.string().optional(),
      search: z.array(z.string()).optional(),
      options: z.array(z.string()).optional(),
    })
    .optional(),
  args: z.record(z.string(), z.unknown()).optional(),
  runtimeConfig: z.record(z.string(), z.unknown()).optional(),
  prevResult: z.unknown().optional(),
});
export type PluginConf = z.infer<typeof PluginConfSchema>;

export const NetConfListSchema = z.looseObject({
  cniVersion: z.string().min(1, 'cniVersion is required'),
  cniVersions: z.array(z.string()).optional(),
  name: z.string().min(1, 'name is required'),
  disableCheck: boolish.optional(),
  disableGC: boolish.optional(),
  plugins: z.array(z.unknown()).min(1, 'plugins must list at least one plugin'),
});

/** A parsed list: typed envelope plus the raw plugin objects exactly as written. */
export interface NetConfList {
  cniVersion: SpecVersion; // the version braid will speak to this list's plugins
  declaredVersion: string;
  name: string;
  disableCheck: boolean;
  disableGC: boolean;
  plugins: Record<string, unknown>[];
  raw: Record<string, unknown>;
  /** The exact bytes it was read from, when it came from a file or stdin (kept for the cache). */
  bytes?: string;
}

// Go's encoding/json (libcni) refuses nesting past 10000 levels; braid stops at 1000, so every
// later JSON.stringify and clone of the value (delegate stdin, the plan record) fits the stack.
export const MAX_JSON_DEPTH = 1000;

// Go's decoder refuses a number outside float64 ("cannot unmarshal number"); JSON.parse makes it
// Infinity, which JSON.stringify prints as null: a delegate would get a different config.
const MAYBE_HUGE = /[eE]\+?\d{3}|\d{309}/;

/**
 * One flat pass over JSON text, strings skipped (no recursion: deep input must not exhaust the
 * stack): the deepest nesting, and, when asked, whether a number overflows float64.
 */
function scanJson(text: string, numbers: boolean): { depth: number; overflow: boolean } {
  let depth = 0;
  let max = 0;
  let inString = false;
  let overflow = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
    else if (numbers && (c === 0x2d || (c >= 0x30 && c <= 0x39))) {
      let j = i + 1;
      while (j < text.length && /[0-9eE+\-.]/.test(text[j]!)) j++;
      overflow ||= !Number.isFinite(Number(text.slice(i, j)));
      i = j - 1;
    }
  }
  return { depth: max, overflow };
}

export const jsonDepth = (text: string): number => scanJson(text, false).depth;
export const hasInfinity = (text: string): boolean => MAYBE_HUGE.test(text) && scanJson(text, true).overflow;

export function parseJsonObject(bytes: string | Buffer, what: string): Record<string, unknown> {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw decodeFailure(`${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw decodeFailure(`${what} must be a JSON object`);
  }
  const scan = scanJson(text, MAYBE_HUGE.test(text));
  if (scan.depth > MAX_JSON_DEPTH) throw decodeFailure(`${what} is nested more than ${MAX_JSON_DEPTH} levels deep`);
  if (scan.overflow) throw decodeFailure(`${what} holds a number outside the range of a 64-bit float`);
  return value as Record<string, unknown>;
}

export function parseConfList(obj: Record<string, unknown>, what = 'network configuration list'): NetConfList {
  const env = NetConfListSchema.safeParse(obj);
  if (!env.success) throw issuesToError(env.error, obj, what);
  validateNetworkName(env.data.name, 'name');
  const cniVersion = pickVersion(env.data.cniVersion, env.data.cniVersions);
  const plugins = env.data.plugins.map((p, i) => {
    const r = PluginConfSchema.safeParse(p);
    if (!r.success) throw issuesToError(r.error, p, what, Code.InvalidConfig, `plugins[${i}]`);
    validatePluginType(r.data.type, `plugins[${i}].type`);
    return p as Record<string, unknown>;
  });
  return {
    cniVersion,
    declaredVersion: env.data.cniVersion,
    name: env.data.name,
    disableCheck: env.data.disableCheck ?? false,
    disableGC: env.data.disableGC ?? false,
    plugins,
    raw: obj,
  };
}

/** Parse list or conf bytes, keeping the bytes for the result cache. */
export function parseConfigBytes(bytes: string, what?: string): NetConfList {
  const obj = parseJsonObject(bytes, what ?? 'network configuration');
  const list = parseAnyConfig(obj, what);
  if ('plugins' in obj) list.bytes = bytes;
  return list;
}

/** A single-plugin .conf becomes a one-element list (libcni ConfListFromConf). */
export function confToConfList(conf: Record<string, unknown>): Record<string, unknown> {
  const { cniVersion, name, cniVersions, disableCheck, disableGC, ...rest } = conf;
  void rest;
  const plugin = { ...conf };
  const list: Record<string, unknown> = { cniVersion, name, plugins: [plugin] };
  if (cniVersions !== undefined) list.cniVersions = cniVersions;
  if (disableCheck !== undefined) list.disableCheck = disableCheck;
  if (disableGC !== undefined) list.disableGC = disableGC;
  return list;
}

/** Accept either a conflist or a single conf object. */
export function parseAnyConfig(obj: Record<string, unknown>, what?: string): NetConfList {
  if ('plugins' in obj) return parseConfList(obj, what);
  if (typeof obj.type !== 'string') {
    throw new CniError(Code.InvalidConfig, `${what ?? 'network configuration'}: neither a list ("plugins") nor a plugin config ("type")`);
  }
  return parseConfList(confToConfList(obj), what);
}
