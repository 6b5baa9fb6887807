// The validate pipeline, without process I/O: files in, sorted findings out. Layers run in
// order (syntax, schema, semantics, cross-file, binaries, annotations) and only add findings;
// the rule config then sets each finding's severity or drops it.
import { BinaryChecker, type VersionProbe } from './binary-layer.js';
import { classify, type NetworkInput } from './classify.js';
import type { FindingCode } from './codes.js';
import { checkDuplicateNames, checkNads, checkOverlaps } from './cross-checks.js';
import { FindingSink, type Finding } from './finding.js';
import type { InputFile } from './load-inputs.js';
import { parseInput } from './parse-documents.js';
import type { RuleContext } from './plugin-rules.js';
import { NEWEST_PLUGINS, type PluginsVersion } from './plugin-versions.js';
import { applyRules, type RuleSetting } from './rule-config.js';
import { checkOtherSchema, checkSchemas, schemasNeeded } from './schema-layer.js';
import { SchemaRegistry } from './schema-registry.js';
import { checkSemantics } from './semantic-layer.js';
import { checkMultusConfig } from './multus-rules.js';

export interface ValidateOptions {
  /** Directories to look for plugin binaries in; none means the binary layer is skipped. */
  cniPath?: readonly string[];
  probe?: VersionProbe;
  /** The plugins release version-dependent rules follow (default: the newest they know). */
  pluginsVersion?: PluginsVersion;
  /** Links of the node validated for: masters and devices must be among them. */
  hostLinks?: ReadonlySet<string>;
  rules?: ReadonlyMap<FindingCode, RuleSetting>;
}

export interface ValidateResult {
  files: string[];
  findings: Finding[];
}

let registry: SchemaRegistry | undefined; // schemas never change: compile once per process

export async function validateFiles(inputs: readonly InputFile[], opts: ValidateOptions = {}): Promise<ValidateResult> {
  const sink = new FindingSink();
  const perInput = await Promise.all(inputs.map((input) => parseInput(input, sink)));
  inputs.forEach((input, i) => {
    // Nothing to check is a failure: `kubectl get ... | braid validate -` must not pass on empty output.
    if (input.text !== undefined && perInput[i]!.length === 0 && !sink.findings.some((f) => f.file === input.file)) {
      sink.add({ file: input.file, dir: input.dir, locate: () => undefined }, 'BRD110', '', `no document in ${input.file}: it is empty or holds only comments`, 'an empty pipe usually means the command before it printed nothing');
    }
  });
  const docs = perInput.flat();
  const { networks, nads, workloads, others } = await classify(docs, sink);

  registry ??= new SchemaRegistry();
  await registry.prepare([...schemasNeeded(networks), ...others.map((o) => o.schema)]);
  for (const net of networks) checkSchemas(net, registry, sink);
  for (const o of others) checkOtherSchema(o, registry, sink);
  for (const o of others) checkMultusConfig(o.raw, o.scope, sink, true);
  for (const net of networks) if (net.raw.type === 'multus' || net.raw.type === 'multus-shim') checkMultusConfig(net.raw, net.scope, sink, false);

  const ctx: RuleContext = { pluginsVersion: opts.pluginsVersion ?? { version: NEWEST_PLUGINS, source: 'default' }, ...(opts.hostLinks ? { hostLinks: opts.hostLinks } : {}) };
  const facts = networks.map((net) => checkSemantics(net, sink, ctx));
  checkDuplicateNames(facts, sink);
  const fileNetworks = new Map<string, NetworkInput>();
  // braid's and Multus's own configs are no network a pod can select.
  const meta = (net: NetworkInput) => ['braid', 'multus', 'multus-shim'].includes(String(net.raw.type));
  for (const f of facts) if (!f.net.nad && !f.net.inline && f.name && !meta(f.net) && !fileNetworks.has(f.name)) fileNetworks.set(f.name, f.net);
  checkNads(nads, new Set(fileNetworks.keys()), sink);
  checkOverlaps(facts, sink);

  if (opts.cniPath && opts.cniPath.length > 0) await new BinaryChecker(opts.cniPath, opts.probe).check(facts, sink);

  if (workloads.length > 0) {
    const { checkWorkload } = await import('./annotation-layer.js');
    for (const w of workloads) await checkWorkload(w, { nads, fileNetworks }, sink);
  }

  const order = new Map(inputs.map((f, i) => [f.file, i]));
  const findings = applyRules(sink.findings, opts.rules ?? new Map())
    .map((f, i) => ({ f, i }))
    .sort((a, b) => (order.get(a.f.file) ?? 0) - (order.get(b.f.file) ?? 0) || (a.f.line ?? 0) - (b.f.line ?? 0) || (a.f.column ?? 0) - (b.f.column ?? 0) || a.i - b.i)
    .map(({ f }) => f);
  return { files: inputs.map((f) => f.file), findings };
}
