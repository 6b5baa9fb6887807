// What each document is: a CNI config (list or single plugin), a NetworkAttachmentDefinition
// (its spec.config becomes a network, located inside the YAML), or a pod / pod template
// carrying network annotations. Other Kubernetes kinds are skipped silently.
import { fixedAt, type DocContext, type FindingSink, type Scope } from './finding.js';
import { findDuplicateKeys } from './json-duplicates.js';
import { isMultusDaemonConfig } from '../meta/multus-config.js';
import { editDistance, suggest } from './did-you-mean.js';
import { escapeSegment, fieldPath, ptr } from './json-pointer.js';
import { embeddedLocator, embeddedOffsetLocator } from './embedded-json.js';
import { placeholderInString, templateMarker, type ParsedDoc } from './parse-documents.js';
import { explainJsonError, jsonErrorOffset } from './text-position.js';

export type Json = Record<string, unknown>;

export interface NadRef {
  name: string;
  namespace?: string;
  scope: Scope; // the NAD object
}

export interface NetworkInput {
  scope: Scope; // the config object
  raw: Json; // as written, plus the NAD name when spec.config has none
  isList: boolean;
  nad?: NadRef;
  nameInjected?: boolean; // spec.config had no name: the NAD's was put in
  inline?: boolean; // a network written inside braid's own config (delegates, clusterNetwork)
}

export interface NadInput extends NadRef {
  hasConfig: boolean;
  network?: NetworkInput;
}

export interface WorkloadInput {
  scope: Scope; // the pod or workload object
  doc: ParsedDoc;
  kind: string;
  name: string;
  namespace?: string;
  annotationsPointer: string;
  annotations: Json;
  /** A pod template's owner: its own metadata.annotations, which pods never see. */
  ownerAnnotations?: Json;
}

/** A config that is no network: checked against its schema only (Multus's daemon config). */
export interface OtherConfig {
  scope: Scope;
  raw: Json;
  schema: string;
}

export interface Classified {
  networks: NetworkInput[];
  nads: NadInput[];
  workloads: WorkloadInput[];
  others: OtherConfig[];
}

export const MULTUS_DAEMON_SCHEMA = 'multus-daemon-config';

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

// Where each workload kind keeps its pod template's annotations.
const TEMPLATE_PATHS: Record<string, string[]> = {
  Pod: ['metadata'],
  PodTemplate: ['template', 'metadata'],
  Deployment: ['spec', 'template', 'metadata'],
  StatefulSet: ['spec', 'template', 'metadata'],
  DaemonSet: ['spec', 'template', 'metadata'],
  ReplicaSet: ['spec', 'template', 'metadata'],
  ReplicationController: ['spec', 'template', 'metadata'],
  Job: ['spec', 'template', 'metadata'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'metadata'],
};

function dig(v: unknown, path: readonly string[]): unknown {
  let cur = v;
  for (const k of path) cur = isObject(cur) ? cur[k] : undefined;
  return cur;
}

export async function classify(docs: readonly ParsedDoc[], sink: FindingSink): Promise<Classified> {
  const out: Classified = { networks: [], nads: [], workloads: [], others: [] };
  for (const doc of docs) await classifyValue(doc, doc.value, '', sink, out);
  return out;
}

async function classifyValue(doc: ParsedDoc, value: unknown, base: string, sink: FindingSink, out: Classified): Promise<void> {
  const scope: Scope = { doc: doc.ctx, base };
  if (!isObject(value)) {
    sink.at(scope, 'BRD104', '', `expected a JSON object (a CNI config) or a Kubernetes object, found ${Array.isArray(value) ? 'an array' : typeof value}`);
    return;
  }
  const kind = str(value.kind);
  if (kind !== undefined && typeof value.apiVersion === 'string') {
    if (kind === 'List' && Array.isArray(value.items)) {
      for (let i = 0; i < value.items.length; i++) await classifyValue(doc, value.items[i], `${base}/items/${i}`, sink, out);
    } else if (kind === 'NetworkAttachmentDefinition') await classifyNad(doc, value, scope, sink, out);
    else if (TEMPLATE_PATHS[kind]) classifyWorkload(doc, value, kind, scope, out);
    else if (kind === 'ConfigMap') await classifyConfigMap(doc, value, scope, sink, out);
    else checkKind(kind, scope, sink);
    return;
  }
  classifyConfig(value, scope, sink, out);
}

/** A JSON config outside Kubernetes objects: a conflist, a single-plugin conf, or Multus's daemon config. */
function classifyConfig(value: Json, scope: Scope, sink: FindingSink, out: Classified): void {
  if (isMultusDaemonConfig(value)) out.others.push({ scope, raw: value, schema: MULTUS_DAEMON_SCHEMA });
  else if (Array.isArray(value.plugins) || 'plugins' in value) out.networks.push({ scope, raw: value, isList: true });
  else if ('type' in value) {
    out.networks.push({ scope, raw: value, isList: false });
    if (value.type === 'braid' || value.type === 'multus') classifyInline(value, scope, out);
  } else if ('cniVersion' in value || 'name' in value) out.networks.push({ scope, raw: value, isList: true }); // a list missing plugins
  else sink.at(scope, 'BRD104', '', 'not a CNI configuration (no "plugins" or "type"), a NetworkAttachmentDefinition or a pod; skipped');
}

/** braid's config may carry whole networks inline: each delegate, and an object clusterNetwork. */
function classifyInline(conf: Json, scope: Scope, out: Classified): void {
  const inline: [unknown, string][] = Array.isArray(conf.delegates) ? conf.delegates.map((d, i): [unknown, string] => [d, `/delegates/${i}`]) : [];
  if (isObject(conf.clusterNetwork)) inline.push([conf.clusterNetwork, '/clusterNetwork']);
  for (const [value, rel] of inline) {
    if (!isObject(value)) continue;
    // Like Multus, a delegate without cniVersion speaks the version of the config holding it.
    const raw = value.cniVersion === undefined && typeof conf.cniVersion === 'string' ? { ...value, cniVersion: conf.cniVersion } : value;
    out.networks.push({ scope: { doc: scope.doc, base: scope.base + rel }, raw, isList: 'plugins' in value, inline: true });
  }
}

function classifyWorkload(doc: ParsedDoc, value: Json, kind: string, scope: Scope, out: Classified): void {
  const meta = TEMPLATE_PATHS[kind]!;
  const annotations = dig(value, [...meta, 'annotations']);
  const owner = kind === 'Pod' ? undefined : dig(value, ['metadata', 'annotations']);
  if (!isObject(annotations) && !isObject(owner)) return;
  const namespace = str(dig(value, ['metadata', 'namespace']));
  out.workloads.push({
    scope,
    doc,
    kind,
    name: str(dig(value, ['metadata', 'name'])) ?? '(unnamed)',
    ...(namespace ? { namespace } : {}),
    annotationsPointer: ptr(...meta, 'annotations'),
    annotations: isObject(annotations) ? annotations : {},
    ...(isObject(owner) ? { ownerAnnotations: owner } : {}),
  });
}

const KINDS = ['NetworkAttachmentDefinition', ...Object.keys(TEMPLATE_PATHS)];

/** A kind one slip away from one braid reads is a typo that hides the object from every check. */
function checkKind(kind: string, scope: Scope, sink: FindingSink): void {
  const s = suggest(kind, KINDS);
  if (s && (s.caseOnly || editDistance(kind.toLowerCase(), s.word.toLowerCase()) <= 2)) {
    sink.at(scope, 'BRD210', '/kind', `kind ${JSON.stringify(kind)} is not a Kubernetes kind; the API server rejects it and nothing here checks it`, `did you mean ${JSON.stringify(s.word)}?`);
  }
}

async function classifyNad(doc: ParsedDoc, value: Json, scope: Scope, sink: FindingSink, out: Classified): Promise<void> {
  const name = str(dig(value, ['metadata', 'name'])) ?? '';
  const namespace = str(dig(value, ['metadata', 'namespace']));
  const spec = dig(value, ['spec']);
  if (isObject(spec)) {
    // The CRD's spec holds config only; a misspelt key leaves the NAD without its config.
    for (const key of Object.keys(spec)) {
      if (key === 'config') continue;
      const s = suggest(key, ['config']);
      sink.at(scope, s ? 'BRD206' : 'BRD205', `/spec/${escapeSegment(key)}`, `unknown key ${JSON.stringify(key)} in NetworkAttachmentDefinition spec${s ? ': the config it holds is lost' : ''}`, s ? 'did you mean "config"?' : 'spec has a single key: config');
    }
  }
  const config = dig(value, ['spec', 'config']);
  const nad: NadInput = { name, ...(namespace ? { namespace } : {}), scope, hasConfig: config !== undefined };
  out.nads.push(nad);
  if (config === undefined) return;
  const configPointer = `${scope.base}/spec/config`;
  if (typeof config !== 'string') {
    sink.add(doc.ctx, 'BRD202', configPointer, `spec.config must be a string holding a JSON conf or conflist, got ${Array.isArray(config) ? 'array' : typeof config}`, 'quote the JSON, e.g. with a YAML block scalar: config: |');
    return;
  }
  const parsed = await parseEmbedded(doc, configPointer, config, `spec.config of NetworkAttachmentDefinition ${JSON.stringify(name)}`, sink);
  if (!parsed) return;
  // NPWG v1.3 section 3.4: a spec.config without a name takes the NAD's name.
  const raw = parsed.value.name === undefined && name ? { ...parsed.value, name } : parsed.value;
  const network: NetworkInput = { scope: parsed.scope, raw, isList: 'plugins' in parsed.value, nad, ...(raw !== parsed.value ? { nameInjected: true } : {}) };
  nad.network = network;
  out.networks.push(network);
}

/**
 * A JSON config held in a YAML string (NAD spec.config, a ConfigMap value): parsed, its duplicate
 * keys reported, findings inside it mapped to file positions. Undefined when it is no JSON object.
 */
async function parseEmbedded(doc: ParsedDoc, pointer: string, text: string, what: string, sink: FindingSink): Promise<{ value: Json; scope: Scope } | undefined> {
  const inner: DocContext = { file: doc.ctx.file, dir: doc.ctx.dir, locate: await embeddedLocator(doc, pointer, text) };
  const toFile = await embeddedOffsetLocator(doc, pointer, text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const offset = jsonErrorOffset(msg, text);
    const template = templateMarker(text, offset);
    if (template) sink.add(fixedAt(inner, toFile(offset)), 'BRD107', pointer, `${what} is a template, not JSON yet: ${template.what} must be rendered first`, template.hint);
    else {
      const why = explainJsonError(msg, text, offset);
      sink.add(fixedAt(inner, toFile(why.offset)), 'BRD103', pointer, `${what} is not valid JSON: ${why.reason}`, why.generic ? jsonHint(text) : undefined);
    }
    return undefined;
  }
  const scope: Scope = { doc: inner, base: pointer };
  if (!isObject(parsed)) {
    sink.at(scope, 'BRD202', '', `${what} must hold a JSON object, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
    return undefined;
  }
  const held = placeholderInString(text);
  if (held) {
    sink.add(fixedAt(inner, toFile(held.offset)), 'BRD107', pointer, `${what} is a template: placeholder ${held.token} must be substituted first; its values are not checked`, 'substitute the placeholders and validate the result');
    return undefined;
  }
  reportDuplicateKeys(text, (offset) => fixedAt(inner, toFile(offset)), pointer, sink);
  return { value: parsed, scope };
}

/**
 * ConfigMap values that carry a CNI, braid or Multus config: keys named *.conf or *.conflist,
 * and JSON text (e.g. daemon-config.json, cni-conf.json) with a config's keys.
 */
async function classifyConfigMap(doc: ParsedDoc, value: Json, scope: Scope, sink: FindingSink, out: Classified): Promise<void> {
  const data = dig(value, ['data']);
  if (!isObject(data)) return;
  const cmName = str(dig(value, ['metadata', 'name'])) ?? '(unnamed)';
  for (const [key, text] of Object.entries(data)) {
    if (typeof text !== 'string') continue;
    const cniFile = /\.(conflist|conf)$/i.test(key);
    const looks = /^\s*\{/.test(text) && /"(type|plugins|cniVersion|multusConfigFile|cniConfigDir)"\s*:/.test(text);
    if (!cniFile && !looks) continue;
    const pointer = `${scope.base}/data/${escapeSegment(key)}`;
    const parsed = await parseEmbedded(doc, pointer, text, `ConfigMap ${cmName} data ${JSON.stringify(key)}`, sink);
    if (parsed) classifyConfig(parsed.value, parsed.scope, sink, out);
  }
}

export function jsonHint(text: string): string | undefined {
  return /^\s*\/\/|\/\*/m.test(text) ? 'JSON has no comments; remove // and /* */' : /,\s*[}\]]/.test(text) ? 'JSON allows no trailing comma before } or ]' : undefined;
}

export function reportDuplicateKeys(text: string, at: (offset: number) => DocContext, base: string, sink: FindingSink): void {
  for (const d of findDuplicateKeys(text)) {
    const first = at(d.firstOffset).locate('');
    const where = first ? ` (first at line ${first.line})` : '';
    const key = fieldPath(base + d.pointer);
    if (d.sameValue) sink.add(at(d.offset), 'BRD109', base + d.pointer, `key ${key} appears twice with the same value${where}`, 'remove one of them');
    else sink.add(at(d.offset), 'BRD108', base + d.pointer, `key ${key} appears twice${where}: the plugin keeps only this later value, the earlier one is lost`, 'keep one of them, with the value you mean');
  }
}
