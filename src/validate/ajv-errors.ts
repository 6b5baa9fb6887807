// ajv errors to findings that name the field and the value. Unknown keys are warnings, except
// a near-miss of a known key: that setting is silently lost, so it is an error (BRD206).
import type { ErrorObject } from 'ajv';
import type { FindingCode } from './codes.js';
import { isObject } from './classify.js';
import { editDistance, suggest } from './did-you-mean.js';
import { escapeSegment, fieldPath, showValue, typeOfValue } from './json-pointer.js';

// Keys every plugin config may carry: left out of the "its own keys" hint.
const COMMON_KEYS = new Set(['cniVersion', 'cniVersions', 'name', 'type', 'capabilities', 'args', 'runtimeConfig', 'prevResult', 'ipam', 'dns']);

export interface Mapped {
  code: FindingCode;
  pointer: string;
  message: string;
  hint?: string;
}

const describe = (schema: unknown) => (isObject(schema) && typeof schema.description === 'string' ? schema.description : undefined);

/**
 * anyOf/oneOf: when every branch only misses a field, one "needs X or Y"; otherwise the errors
 * of the branch that came closest (fewest errors), without the alternatives' noise.
 */
function resolveAlternatives(errors: readonly ErrorObject[], rel: string): { errors: ErrorObject[]; extra: Mapped[] } {
  const alts = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  if (alts.length === 0) return { errors: [...errors], extra: [] };
  const drop = new Set<ErrorObject>(alts);
  const extra: Mapped[] = [];
  for (const alt of alts) {
    const prefix = `${alt.schemaPath}/`;
    const subs = errors.filter((e) => e.schemaPath.startsWith(prefix) && e.instancePath.startsWith(alt.instancePath));
    if (subs.length === 0) {
      drop.delete(alt); // e.g. oneOf matching twice: keep it as is
      continue;
    }
    for (const s of subs) drop.add(s);
    if (subs.every((s) => s.keyword === 'required' && s.instancePath === alt.instancePath)) {
      const missing = [...new Set(subs.map((s) => String((s.params as { missingProperty: string }).missingProperty)))];
      const at = rel + alt.instancePath;
      extra.push({ code: 'BRD201', pointer: at, message: `${at === '' ? 'the configuration' : fieldPath(at)} needs ${missing.map((m) => JSON.stringify(m)).join(' or ')}` });
      continue;
    }
    const byBranch = new Map<string, ErrorObject[]>();
    for (const s of subs) {
      const branch = s.schemaPath.slice(prefix.length).split('/')[0]!;
      byBranch.set(branch, [...(byBranch.get(branch) ?? []), s]);
    }
    const best = [...byBranch.values()].sort((a, b) => a.length - b.length)[0]!;
    for (const s of best) drop.delete(s);
  }
  return { errors: errors.filter((e) => !drop.has(e)), extra };
}

export function mapErrors(all: readonly ErrorObject[], rel: string): Mapped[] {
  const { errors, extra } = resolveAlternatives(all, rel);
  // A value of the wrong type also fails its enum/range: report the type only.
  const typed = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  const out: Mapped[] = [...extra];
  for (const e of errors) {
    if (e.keyword === 'if') continue; // its "then" errors say what is wrong
    if (e.keyword !== 'type' && e.keyword !== 'required' && e.keyword !== 'additionalProperties' && typed.has(e.instancePath)) continue;
    const m = mapError(e, rel);
    if (m) out.push(m);
  }
  return out;
}

function mapError(e: ErrorObject, rel: string): Mapped | undefined {
  const at = rel + e.instancePath;
  const field = fieldPath(at);
  const data: unknown = e.data;
  switch (e.keyword) {
    case 'required': {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      const pointer = `${at}/${escapeSegment(missing)}`;
      const props = isObject(e.parentSchema) && isObject(e.parentSchema.properties) ? e.parentSchema.properties : {};
      const hint = describe(props[missing]);
      return { code: 'BRD201', pointer, message: `${fieldPath(pointer)} is required`, ...(hint ? { hint } : {}) };
    }
    case 'additionalProperties':
      return unknownKey(e, at);
    case 'type': {
      const want = String((e.params as { type: string | string[] }).type).replace(',', ' or ');
      let hint: string | undefined;
      if (typeof data === 'string' && /integer|number/.test(want) && /^-?\d+(\.\d+)?$/.test(data.trim())) hint = `write the number without quotes: ${data.trim()}`;
      else if (typeof data === 'string' && /boolean/.test(want) && /^(true|false)$/i.test(data.trim())) hint = `write the boolean without quotes: ${data.trim().toLowerCase()}`;
      return { code: 'BRD202', pointer: at, message: `${field} must be ${want === 'integer' ? 'an integer' : `a ${want}`}, got ${typeOfValue(data)} ${showValue(data)}`, ...(hint ? { hint } : {}) };
    }
    case 'enum':
    case 'const': {
      const allowed = e.keyword === 'enum' ? ((e.params as { allowedValues: unknown[] }).allowedValues ?? []) : [(e.params as { allowedValue: unknown }).allowedValue];
      const shown = allowed.map((v) => JSON.stringify(v)).join(', ');
      const s = typeof data === 'string' ? suggest(data, allowed.filter((v): v is string => typeof v === 'string')) : undefined;
      return { code: 'BRD203', pointer: at, message: `${field} ${showValue(data)} is not allowed; use one of ${shown}`, ...(s ? { hint: `did you mean ${JSON.stringify(s.word)}?` } : {}) };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minLength':
    case 'maxLength':
    case 'minItems':
    case 'maxItems':
    case 'pattern':
    case 'format': {
      const hint = describe(e.parentSchema);
      return { code: 'BRD204', pointer: at, message: `${field} ${showValue(data)} ${e.message ?? 'is invalid'}`, ...(hint ? { hint } : {}) };
    }
    default:
      return { code: 'BRD209', pointer: at, message: `${field} ${e.message ?? 'is invalid'}` };
  }
}

const isNearMiss = (key: string, word: string) => {
  const lk = key.toLowerCase();
  const lw = word.toLowerCase();
  if ((lk.includes(lw) || lw.includes(lk)) && Math.abs(lk.length - lw.length) > 1) return false; // a prefix or suffix: another word
  return editDistance(lk, lw) <= (word.length >= 8 ? 2 : 1);
};

function unknownKey(e: ErrorObject, at: string): Mapped {
  const key = String((e.params as { additionalProperty: string }).additionalProperty);
  const pointer = `${at}/${escapeSegment(key)}`;
  const ps = e.parentSchema;
  const allowed = isObject(ps) && isObject(ps.properties) ? Object.keys(ps.properties) : [];
  const where = at === '' ? 'the configuration' : fieldPath(at);
  const s = suggest(key, allowed);
  const own = allowed.filter((k) => !COMMON_KEYS.has(k));
  if (s?.caseOnly) {
    return {
      code: 'BRD207',
      pointer,
      message: `key ${JSON.stringify(key)} in ${where} differs from ${JSON.stringify(s.word)} only in letter case`,
      hint: `the Go plugins match keys case-insensitively, so this works there; write ${JSON.stringify(s.word)}`,
    };
  }
  // Only a near miss is a typo whose setting is lost; a word that merely resembles a key
  // (if0name and name) is an unknown key with a hint.
  if (s && isNearMiss(key, s.word)) {
    return {
      code: 'BRD206',
      pointer,
      message: `unknown key ${JSON.stringify(key)} in ${where}: the plugin ignores it, so its setting is lost`,
      hint: `did you mean ${JSON.stringify(s.word)}?`,
    };
  }
  return {
    code: 'BRD205',
    pointer,
    message: `unknown key ${JSON.stringify(key)} in ${where}; the plugin ignores it`,
    ...(s ? { hint: `did you mean ${JSON.stringify(s.word)}?` } : own.length ? { hint: `${where === 'the configuration' ? 'known' : 'its own'} keys: ${own.join(', ')}` } : {}),
  };
}

