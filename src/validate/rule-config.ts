// Which rules run and how severe each is: a `.braid-validate.yaml` (found from the working
// directory upwards, or named with --config) and --rule/--disable flags, the flags last.
//   rules:
//     BRD208: off        # or error | warning | info
//   pluginsVersion: 1.1.1
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CODES, type FindingCode, type Severity } from './codes.js';
import type { Finding } from './finding.js';

export type RuleSetting = Severity | 'off';
const SETTINGS: readonly RuleSetting[] = ['error', 'warning', 'info', 'off'];
export const CONFIG_NAMES = ['.braid-validate.yaml', '.braid-validate.yml', '.braid-validate.json'];

export class RuleConfigError extends Error {}

export interface RuleConfig {
  rules: Map<FindingCode, RuleSetting>;
  pluginsVersion?: string;
  file?: string;
}

const isCode = (c: string): c is FindingCode => Object.hasOwn(CODES, c);

function setting(code: string, value: unknown, where: string): [FindingCode, RuleSetting] {
  const c = code.trim().toUpperCase();
  if (!isCode(c)) throw new RuleConfigError(`${where}: unknown rule ${JSON.stringify(code)} (braid validate --help lists the codes)`);
  const v = value === false ? 'off' : String(value).trim().toLowerCase();
  if (!SETTINGS.includes(v as RuleSetting)) throw new RuleConfigError(`${where}: rule ${c} must be one of ${SETTINGS.join(', ')}, got ${JSON.stringify(value)}`);
  return [c, v as RuleSetting];
}

/** The nearest config file from `start` upwards, stopping at a repository root. */
export function findConfigFile(start: string): string | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    for (const name of CONFIG_NAMES) if (existsSync(join(dir, name))) return join(dir, name);
    if (existsSync(join(dir, '.git')) || dirname(dir) === dir) return undefined;
  }
}

export async function loadRuleConfig(file: string): Promise<RuleConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RuleConfigError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : (await import('yaml')).parse(text);
  } catch (e) {
    throw new RuleConfigError(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const out: RuleConfig = { rules: new Map(), file };
  if (doc === null || doc === undefined) return out;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new RuleConfigError(`${file}: expected a mapping with "rules" and "pluginsVersion"`);
  for (const [k, v] of Object.entries(doc)) {
    if (k === 'rules') {
      if (v === null) continue;
      if (typeof v !== 'object' || Array.isArray(v)) throw new RuleConfigError(`${file}: rules must be a mapping of code to ${SETTINGS.join('|')}`);
      for (const [code, val] of Object.entries(v as Record<string, unknown>)) out.rules.set(...setting(code, val, file));
    } else if (k === 'pluginsVersion') out.pluginsVersion = String(v);
    else throw new RuleConfigError(`${file}: unknown key ${JSON.stringify(k)} (known: rules, pluginsVersion)`);
  }
  return out;
}

/** --rule CODE=SEVERITY (repeatable, comma-separated lists too) and --disable CODE. */
export function ruleFlags(rules: readonly string[], disabled: readonly string[]): Map<FindingCode, RuleSetting> {
  const out = new Map<FindingCode, RuleSetting>();
  for (const r of rules.flatMap((x) => x.split(','))) {
    const eq = r.indexOf('=');
    if (eq < 0) throw new RuleConfigError(`--rule ${JSON.stringify(r)}: write CODE=SEVERITY, e.g. BRD205=error`);
    out.set(...setting(r.slice(0, eq), r.slice(eq + 1), '--rule'));
  }
  for (const d of disabled.flatMap((x) => x.split(','))) out.set(...setting(d, 'off', '--disable'));
  return out;
}

/** Each finding with its configured severity; disabled rules dropped. */
export function applyRules(findings: readonly Finding[], rules: ReadonlyMap<FindingCode, RuleSetting>): Finding[] {
  if (rules.size === 0) return [...findings];
  const out: Finding[] = [];
  for (const f of findings) {
    const s = rules.get(f.code);
    if (s === 'off') continue;
    out.push(s ? { ...f, severity: s } : f);
  }
  return out;
}
