// Linter conventions, through dist/braid: one-line and SARIF output, --quiet, rule config and
// flags, empty input, duplicate keys, positions inside annotations, ConfigMaps and Multus configs,
// and the node check.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODES } from '../../src/validate/codes.js';
import { BIN, CORPUS, runCli } from './helpers.js';

let dir: string;
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'braid-validate-linter-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Sarif {
  version: string;
  runs: { tool: { driver: { name: string; rules: { id: string; defaultConfiguration: { level: string } }[] } }; results: { ruleId: string; ruleIndex: number; level: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number; startColumn: number } }; logicalLocations?: { fullyQualifiedName: string }[] }[] }[] }[];
}

describe('output formats', () => {
  it('--format line: file:line:col: severity code message, one finding per line', async () => {
    const f = join(CORPUS, 'gateway-outside-subnet.conflist');
    const r = await runCli(['--format', 'line', f]);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^${f}:14:15: error BRD313 plugins\\[0\\]\\.ipam\\.ranges\\[0\\]\\[0\\]\\.gateway "198\\.18\\.101\\.1" is outside subnet .*\\(hint: .*\\)$`))]);
  });

  it('--format sarif: SARIF 2.1.0 with every code as a rule and results at file, line, column and pointer', async () => {
    const r = await runCli(['--format', 'sarif', join(CORPUS, 'gateway-outside-subnet.conflist'), join(CORPUS, 'info-no-schema.conflist')]);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout) as Sarif;
    expect(s.version).toBe('2.1.0');
    const run = s.runs[0]!;
    expect(run.tool.driver.rules.map((x) => x.id)).toEqual(Object.keys(CODES));
    const err = run.results.find((x) => x.ruleId === 'BRD313')!;
    expect(err.level).toBe('error');
    expect(run.tool.driver.rules[err.ruleIndex]!.id).toBe('BRD313');
    expect(err.locations[0]!.physicalLocation.region).toEqual({ startLine: 14, startColumn: 15 });
    expect(err.locations[0]!.physicalLocation.artifactLocation.uri).toMatch(/^file:\/\/.*gateway-outside-subnet\.conflist$/);
    expect(err.locations[0]!.logicalLocations![0]!.fullyQualifiedName).toBe('/plugins/0/ipam/ranges/0/0/gateway');
    expect(run.results.find((x) => x.ruleId === 'BRD208')!.level).toBe('note');
  });

  it('--quiet prints only what fails the run, and nothing when nothing does', async () => {
    const warn = join(CORPUS, 'warn-unknown-key.conflist');
    expect(await runCli(['--quiet', warn])).toMatchObject({ code: 0, stdout: '' });
    const both = await runCli(['--quiet', '--format', 'line', warn, join(CORPUS, 'ptp-without-ipam.conflist')]);
    expect(both.code).toBe(1);
    expect(both.stdout.trim().split('\n')).toEqual([expect.stringMatching(/ error BRD307 /)]);
  });
});

describe('rules', () => {
  it('a .braid-validate.yaml turns rules off and changes severities; flags come after it', async () => {
    const proj = mkdtempSync(join(dir, 'proj-'));
    writeFileSync(join(proj, '.braid-validate.yaml'), 'rules:\n  BRD205: error\n  BRD307: off\n');
    const warn = join(CORPUS, 'warn-unknown-key.conflist');
    const ptp = join(CORPUS, 'ptp-without-ipam.conflist');
    expect((await runCli([warn], {}, { cwd: proj })).code).toBe(1); // the warning is an error here
    expect((await runCli(['--format', 'line', ptp], {}, { cwd: proj })).stdout).not.toMatch(/BRD307/);
    expect((await runCli(['--rule', 'BRD205=info', warn], {}, { cwd: proj })).code).toBe(0);
    expect((await runCli(['--no-config', warn], {}, { cwd: proj })).code).toBe(0);
    expect((await runCli(['--config', join(proj, '.braid-validate.yaml'), warn])).code).toBe(1);
  });

  it('--disable and --rule on the command line, comma-separated too', async () => {
    const ptp = join(CORPUS, 'ptp-without-ipam.conflist');
    expect((await runCli(['--disable', 'BRD307', ptp])).code).toBe(0);
    expect((await runCli(['--rule', 'BRD307=warning,BRD205=off', ptp])).code).toBe(0);
    expect((await runCli(['--rule', 'BRD307=warning', '--strict', ptp])).code).toBe(1);
  });

  it.each([
    [['--rule', 'BRD999=off'], /unknown rule "BRD999"/],
    [['--rule', 'BRD205=fatal'], /rule BRD205 must be one of error, warning, info, off, got "fatal"/],
    [['--rule', 'BRD205'], /write CODE=SEVERITY/],
  ])('a bad rule %j is a usage error naming it', async (flags, msg) => {
    const r = await runCli([...flags, join(CORPUS, 'ptp-without-ipam.conflist')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
  });

  it('a bad rule config file is a usage error naming the file and the key', async () => {
    const proj = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(join(proj, '.braid-validate.yaml'), 'rule:\n  BRD205: off\n');
    const r = await runCli([join(CORPUS, 'ptp-without-ipam.conflist')], {}, { cwd: proj });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\.braid-validate\.yaml: unknown key "rule" \(known: rules, pluginsVersion\)/);
  });
});

describe('inputs', () => {
  it('empty stdin fails: an empty pipe is not a clean config', async () => {
    const r = await runCli(['-'], {}, { stdin: '' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/BRD110/);
    expect((await runCli(['-'], {}, { stdin: '# only a comment\n' })).code).toBe(1);
    expect((await runCli(['-'], {}, { stdin: 'apiVersion: v1\nkind: List\nitems: []\n' })).code).toBe(0);
  });

  it('duplicate keys in YAML: another value is an error at the second key, the same value a warning', async () => {
    const p = write('dup.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: x\n  name: b\n  namespace: x\n');
    const r = await runCli(['--format', 'line', p]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/dup\.yaml:6:3: error BRD108 key metadata\.name appears twice \(first at line 4\)/);
    expect(r.stdout).toMatch(/dup\.yaml:7:3: warning BRD109 key metadata\.namespace appears twice/);
  });

  it('annotation findings point at the element inside the annotation, multi-line quoted values included', async () => {
    const p = write(
      'pod.yaml',
      ["apiVersion: v1", "kind: Pod", "metadata:", "  name: p", "  annotations:", "    k8s.v1.cni.cncf.io/networks: '[", '      {"name": "a", "interface": "net1"},', '      {"name": "b", "interface": "lo", "gateway": ["198.18.0.1"]}', "    ]'", 'spec: {containers: [{name: c, image: i}]}', ''].join('\n'),
    );
    const r = await runCli(['--format', 'line', p]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/pod\.yaml:8:21: error BRD503 .*"lo"/); // the element with another problem is still checked
    expect(r.stdout).toMatch(/pod\.yaml:8:40: error BRD501 .*gateway.*\(hint: .*"default-route"/);
  });

  it("braid manifests --daemon's ConfigMap (daemon.json) validates clean, and a typo in it is caught in place", async () => {
    const yaml = execFileSync(process.execPath, [BIN, 'manifests', '--daemon'], { encoding: 'utf8' });
    const clean = await runCli(['--strict', '-'], {}, { stdin: yaml });
    expect(clean.stdout).toMatch(/0 errors, 0 warnings/);
    expect(clean.code).toBe(0);
    const broken = await runCli(['--format', 'line', '-'], {}, { stdin: yaml.replace('"logLevel": "warn"', '"logToStderr": "yes"') });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/<stdin>:\d+:7: error BRD202 logToStderr must be a boolean, got string "yes"/);
  });

  it("Multus's thin 00-multus.conf and thick daemon-config.json are checked against their own rules", async () => {
    const thin = write('00-multus.conf', JSON.stringify({ cniVersion: '0.3.1', name: 'multus-cni-network', type: 'multus', kubeconfig: '/etc/cni/net.d/multus.d/multus.kubeconfig', delegates: [{ cniVersion: '0.3.1', name: 'k8s-pod-network', type: 'ptp', ipam: { type: 'host-local', subnet: '198.18.40.0/24' } }] }, null, 2));
    expect(await runCli(['--strict', thin])).toMatchObject({ code: 0 });
    const thick = write('daemon-config.json', JSON.stringify({ chrootDir: '/hostroot', cniVersion: '0.3.1', logLevel: 'verbose', logToStderr: true, cniConfigDir: '/host/etc/cni/net.d', multusAutoconfigDir: '/host/etc/cni/net.d', multusConfigFile: 'auto', socketDir: '/host/run/multus/' }, null, 2));
    expect(await runCli(['--strict', thick])).toMatchObject({ code: 0 });
    const bad = write('daemon-config-bad.json', JSON.stringify({ cniConfigDir: '/host/etc/cni/net.d', multusConfigFile: 'auto', logLevel: 'loud', namespaceIsolation: 'true' }, null, 2));
    const r = await runCli(['--format', 'line', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/BRD203 logLevel "loud" is not allowed/);
    expect(r.stdout).toMatch(/BRD202 namespaceIsolation must be a boolean/);
    expect(r.stdout).not.toMatch(/plugins|BRD201/);
  });
});

describe('messages that name the real problem', () => {
  it('an unclosed quote is reported where it opens; cniVersion "0.5.0" gets one finding with the nearest versions', async () => {
    const yaml = await runCli(['--format', 'line', '-'], {}, { stdin: 'a: 1\nb: "open\nc: 2\n' });
    expect(yaml.stdout.trim()).toBe('<stdin>:2:4: error BRD102 invalid YAML at line 2, column 4: the string opened with " here is never closed: add the closing "');
    const v = await runCli(['--format', 'json', '-'], {}, { stdin: JSON.stringify({ cniVersion: '0.5.0', name: 'v', type: 'loopback' }) });
    const findings = (JSON.parse(v.stdout) as { findings: { code: string; message: string }[] }).findings;
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toMatch(/cniVersion "0\.5\.0" is not a CNI specification version; the nearest are "0\.4\.0" and "1\.0\.0"/);
  });
});

describe('--node', () => {
  it('a master or device that is not a link on this machine is an error; an existing one is fine; without --node nothing is asked', async () => {
    const mk = (master: string, net: number) => JSON.stringify({ cniVersion: '1.0.0', name: `n-${master}`, plugins: [{ type: 'macvlan', master, ipam: { type: 'host-local', subnet: `198.18.${net}.0/24` } }] });
    const missing = write('missing-master.conflist', mk('braidnolink0', 41));
    const present = write('present-master.conflist', mk('lo', 42));
    const r = await runCli(['--node', '--no-binaries', '--format', 'line', missing, present]);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/missing-master\.conflist:\d+:\d+: error BRD336 .*"braidnolink0" is not a link on this node/)]);
    expect((await runCli([missing])).code).toBe(0);
  });
});
