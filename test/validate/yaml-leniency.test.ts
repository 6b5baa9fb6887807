// Continuation lines of quoted scalars and flow collections at or left of their key: go-yaml
// (kubectl) reads them, so braid does, to the same value, with file columns kept.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { reindentFlowContinuations } from '../../src/validate/yaml-leniency.js';
import { validateTexts } from './helpers.js';

describe('YAML as kubectl reads it', () => {
  it.each([
    ['closing at column 0', "spec:\n  config: '{\n  \"type\": \"macvlan\"\n}'\n", { spec: { config: '{ "type": "macvlan" }' } }],
    ['a list in a sequence item', "- networks: '[\n  {\"name\": \"a\"}\n  ]'\n", [{ networks: '[ {"name": "a"} ]' }]],
    ['a double-quoted value', 'a:\n  b: "x\n y"\n', { a: { b: 'x y' } }],
    ['a flow sequence', 'a:\n  b: [1,\n  2]\n', { a: { b: [1, 2] } }],
  ])('%s', (_name, text, value) => {
    const r = reindentFlowContinuations(text);
    expect(r).toBeDefined();
    expect(parse(r!.text)).toEqual(value);
  });

  it('leaves block scalars, single-line values and unterminated quotes alone', () => {
    expect(reindentFlowContinuations("a: |\n  b: '{\nc: 1\n")).toBeUndefined();
    expect(reindentFlowContinuations("a: '{}'\nb: 2\n")).toBeUndefined();
    expect(reindentFlowContinuations("a:\n  b: '{\nc: 1\n")).toBeUndefined();
  });

  it('a Go template action in YAML structure is a template; one in a block scalar is text', async () => {
    const chart = await validateTexts({ 'chart.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n' });
    expect(chart.findings.map((f) => [f.code, f.line, f.column])).toEqual([['BRD107', 4, 9]]);
    const rules = await validateTexts({ 'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rules\ndata:\n  alert.tmpl: |\n    summary: {{ $labels.instance }} is down\n' });
    expect(rules.findings).toEqual([]);
  });

  it('findings inside such a value keep the file position', async () => {
    const text = ['apiVersion: k8s.cni.cncf.io/v1', 'kind: NetworkAttachmentDefinition', 'metadata:', '  name: n', 'spec:', "  config: '{", '  "cniVersion": "1.0.0",', '  "type": "macvlan",', '  "mode": "bridged"', "}'", ''].join('\n');
    const { findings } = await validateTexts({ 'nad.yaml': text });
    expect(findings.map((f) => [f.code, f.line, f.column])).toEqual([['BRD203', 9, 3]]);
  });
});
