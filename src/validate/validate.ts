// The validate pipeline, without process I/O: files in, sorted findings out. Layers run in
// order (syntax, schema, semantics, cross-file, binaries, annotations) and only add findings.
import { BinaryChecker, type VersionProbe } from './binary-layer.js';
import { classify, type NetworkInput } from './classify.js';
import { checkDuplicateNames, checkNads, checkOverlaps } from './cross-checks.js';
import { FindingSink, type Finding } from './finding.js';
import type { InputFile } from './load-inputs.js';
import { parseInput } from './parse-documents.js';
import { checkSchemas, schemasNeeded } from './schema-layer.js';
import { SchemaRegistry } from './schema-registry.js';
import { checkSemantics } from './semantic-layer.js';

export interface ValidateOptions {
  /** Directories to look for plugin binaries in; none means the binary layer is skipped. */
  cniPath?: readonly string[];
  /** The path was not asked for but found (default plugin dirs): report only unsupported versions. */
  implicitPath?: boolean;
  probe?: VersionProbe;
}

export interface ValidateResult {
  files: string[];
  findings: Finding[];
}

let registry: SchemaRegistry | undefined; // schemas never change: compile once per process

export async function validateFiles(inputs: readonly InputFile[], opts: ValidateOptions = {}): Promise<ValidateResult> {
  const sink = new FindingSink();
  const docs = (await Promise.all(inputs.map((input) => parseInput(input, sink)))).flat();
  const { networks, nads, workloads } = await classify(docs, sink);

  registry ??= new SchemaRegistry();
  await registry.prepare(schemasNeeded(networks));
  for (const net of networks) checkSchemas(net, registry, sink);

  const facts = networks.map((net) => checkSemantics(net, sink));
  checkDuplicateNames(facts, sink);
  const fileNetworks = new Map<string, NetworkInput>();
  for (const f of facts) if (!f.net.nad && !f.net.inline && f.name && !fileNetworks.has(f.name)) fileNetworks.set(f.name, f.net);
  checkNads(nads, new Set(fileNetworks.keys()), sink);
  checkOverlaps(facts, sink);

  if (opts.cniPath && opts.cniPath.length > 0) await new BinaryChecker(opts.cniPath, opts.probe, opts.implicitPath).check(facts, sink);

  if (workloads.length > 0) {
    const { checkWorkload } = await import('./annotation-layer.js');
    for (const w of workloads) checkWorkload(w, { nads, fileNetworks }, sink);
  }

  const order = new Map(inputs.map((f, i) => [f.file, i]));
  const findings = sink.findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => (order.get(a.f.file) ?? 0) - (order.get(b.f.file) ?? 0) || (a.f.line ?? 0) - (b.f.line ?? 0) || (a.f.column ?? 0) - (b.f.column ?? 0) || a.i - b.i)
    .map(({ f }) => f);
  return { files: inputs.map((f) => f.file), findings };
}
