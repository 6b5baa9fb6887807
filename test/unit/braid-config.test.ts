import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { CniError } from '../../src/cni/errors.js';
import { parseBraidConfig } from '../../src/meta/braid-config.js';
import { braidConfigJsonSchema } from '../../src/meta/braid-config-schema.js';

const flannel = {
  cniVersion: '0.3.1',
  name: 'cbr0',
  plugins: [
    { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
};

function fails(obj: unknown): CniError {
  try {
    parseBraidConfig(obj);
  } catch (e) {
    expect(e).toBeInstanceOf(CniError);
    return e as CniError;
  }
  throw new Error('expected parseBraidConfig to throw');
}

describe('parseBraidConfig defaults', () => {
  it('fills Multus defaults and braid defaults', () => {
    const { config, warnings } = parseBraidConfig({ type: 'braid', clusterNetwork: 'cbr0' });
    expect(warnings).toEqual([]);
    expect(config).toEqual({
      type: 'braid',
      clusterNetwork: 'cbr0',
      defaultNetworks: [],
      confDir: '/etc/cni/braid/net.d',
      cniDir: '/var/lib/cni/braid',
      binDir: [],
      namespaceIsolation: false,
      globalNamespaces: ['default'],
      systemNamespaces: ['kube-system'],
      multusNamespace: 'kube-system',
      parallel: false,
      result: 'merged',
      strictCapabilities: false,
      multusCniDir: '/var/lib/cni/multus',
      podResourcesSocket: '/var/lib/kubelet/pod-resources/kubelet.sock',
      delegateTimeout: 60,
      apiTimeout: 10,
    });
    expect(config.logToStderr).toBeUndefined(); // tri-state: unset = stderr only without logFile
  });

  it.each([
    ['globalNamespaces', 'default, ns-a ,ns-b', ['default', 'ns-a', 'ns-b']],
    ['globalNamespaces', ['a', 'b'], ['a', 'b']],
    ['systemNamespaces', 'kube-system,admin', ['kube-system', 'admin']],
    ['systemNamespaces', [''], []], // Multus users write [""] to mean "none"
    ['binDir', '/opt/cni/bin:/usr/libexec/cni', ['/opt/cni/bin', '/usr/libexec/cni']],
    ['binDir', ['/opt/cni/bin'], ['/opt/cni/bin']],
  ])('%s %j becomes %j', (key, value, expected) => {
    const { config } = parseBraidConfig({ type: 'braid', clusterNetwork: 'x', [key]: value });
    expect(config[key as keyof typeof config]).toEqual(expected);
  });

  it('accepts an inline cluster network (braid extension) and delegates', () => {
    expect(parseBraidConfig({ type: 'braid', clusterNetwork: flannel }).config.clusterNetwork).toEqual(flannel);
    expect(parseBraidConfig({ type: 'braid', delegates: [flannel] }).config.delegates).toEqual([flannel]);
  });
});

describe('Multus config samples', () => {
  it('parses the thin entrypoint 00-multus.conf with no warnings', () => {
    const conf = {
      cniVersion: '0.3.1',
      name: 'multus-cni-network',
      type: 'multus',
      capabilities: { portMappings: true },
      kubeconfig: '/etc/cni/net.d/multus.d/multus.kubeconfig',
      delegates: [flannel],
    };
    const { config, warnings } = parseBraidConfig({ ...conf, type: 'braid' });
    expect(warnings).toEqual([]);
    expect(config.delegates?.[0]).toEqual(flannel);
    expect(config.capabilities).toEqual({ portMappings: true });
  });

  it('parses the entrypoint conf with every optional flag set', () => {
    const { warnings, config } = parseBraidConfig({
      cniVersion: '1.0.0',
      name: 'multus-cni-network',
      type: 'braid',
      capabilities: { portMappings: true, bandwidth: true },
      namespaceIsolation: true,
      globalNamespaces: 'default,shared',
      logToStderr: false,
      logLevel: 'verbose',
      logFile: '/var/log/multus.log',
      binDir: '/opt/cni/bin',
      confDir: '/etc/cni/multus/net.d',
      readinessindicatorfile: '/run/flannel/subnet.env',
      kubeconfig: '/etc/cni/net.d/multus.d/multus.kubeconfig',
      delegates: [flannel],
    });
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({ logLevel: 'verbose', logToStderr: false, globalNamespaces: ['default', 'shared'] });
  });

  it('parses the docs/configuration.md reference, warning only about its comment keys', () => {
    const { config, warnings } = parseBraidConfig({
      cniVersion: '0.3.1',
      name: 'node-cni-network',
      type: 'braid',
      kubeconfig: '/etc/kubernetes/node-kubeconfig.yaml',
      confDir: '/etc/cni/multus/net.d',
      cniDir: '/var/lib/cni/multus',
      binDir: '/opt/cni/bin',
      logFile: '/var/log/multus.log',
      logLevel: 'debug',
      logOptions: { maxAge: 5, maxSize: 100, maxBackups: 5, compress: true },
      capabilities: { portMappings: true },
      readinessindicatorfile: '',
      namespaceIsolation: false,
      Note1: 'NOTE: you can set clusterNetwork+defaultNetworks OR delegates!!',
      clusterNetwork: 'defaultCRD',
      defaultNetworks: ['sidecarCRD', 'flannel'],
      systemNamespaces: ['kube-system', 'admin'],
      multusNamespace: 'kube-system',
      Note2: 'NOTE: If you use clusterNetwork/defaultNetworks, delegates is ignored',
      delegates: [{ type: 'weave-net', hairpinMode: true }, { type: 'macvlan' }],
    });
    expect(warnings).toEqual([
      'unknown key "Note1" ignored',
      'unknown key "Note2" ignored',
      '"delegates" ignored because "clusterNetwork" is set (as in Multus)',
    ]);
    expect(config.defaultNetworks).toEqual(['sidecarCRD', 'flannel']);
  });

  it('parses a thick-plugin shim conf (socketDir accepted silently)', () => {
    const { warnings } = parseBraidConfig({
      cniVersion: '0.3.1',
      name: 'multus-cni-network',
      type: 'braid',
      logLevel: 'verbose',
      logToStderr: true,
      socketDir: '/host/run/multus/',
      clusterNetwork: '/host/etc/cni/net.d/10-calico.conflist',
    });
    expect(warnings).toEqual([]);
  });

  it('reads differently-cased keys as Go does, and names genuinely unknown ones', () => {
    const { config, warnings } = parseBraidConfig({
      name: 'multus-cni-network',
      type: 'braid',
      delegates: [{ type: 'flannel', name: 'flannel.1', delegate: { isDefaultGateway: true } }],
      kubeconfig: '/etc/cni/net.d/multus.d/multus.kubeconfig',
      LogFile: '/var/log/multus.log',
      LogLevel: 'debug',
      always_use_default: true,
      'cni.dev/valid-attachments': [],
    });
    expect(config.logFile).toBe('/var/log/multus.log');
    expect(config.logLevel).toBe('debug');
    expect(warnings).toEqual([
      'key "LogFile" read as "logFile"',
      'key "LogLevel" read as "logLevel"',
      'unknown key "always_use_default" ignored',
    ]);
  });

  it('keeps runtime-injected keys without warnings', () => {
    const { warnings, config } = parseBraidConfig({
      type: 'braid',
      clusterNetwork: 'k8s-pod-network',
      runtimeConfig: { portMappings: [] },
      args: { cni: { ips: ['10.0.0.5'] } },
      prevResult: { cniVersion: '1.0.0' },
    });
    expect(warnings).toEqual([]);
    expect(config.runtimeConfig).toEqual({ portMappings: [] });
  });

  it('warns about an unknown logLevel and drops it, as Multus carries on', () => {
    const { config, warnings } = parseBraidConfig({ type: 'braid', clusterNetwork: 'x', logLevel: 'chatty' });
    expect(config.logLevel).toBeUndefined();
    expect(warnings[0]).toContain('"chatty"');
  });
});

describe('parseBraidConfig errors (code 7, field and value named)', () => {
  it.each([
    ['delegateTimeout', 0, 'delegateTimeout'],
    ['delegateTimeout', 5000, '5000'],
    ['result', 'first', '"first"'],
    ['parallel', 'yes', '"yes"'],
    ['namespaceIsolation', 1, 'namespaceIsolation'],
    ['multusNamespace', 'Kube_System', '"Kube_System"'],
    ['defaultNetworks', 'a,b', 'defaultNetworks'],
    ['clusterNetwork', 42, '42'],
    ['capabilities', { portMappings: 'yes' }, 'capabilities.portMappings'],
    ['globalNamespaces', 7, 'globalNamespaces'],
  ])('%s = %j', (key, value, inMessage) => {
    const err = fails({ type: 'braid', clusterNetwork: 'x', [key]: value });
    expect(err.code).toBe(7);
    expect(err.message).toContain(key);
    expect(err.message).toContain(inMessage);
  });

  it('refuses a delegate that is neither conf nor conflist', () => {
    const err = fails({ type: 'braid', delegates: [{ name: 'x' }] });
    expect(err.code).toBe(7);
    expect(err.message).toContain('delegates[0]');
    expect(err.message).toContain('"plugins"');
  });

  it('needs a cluster network', () => {
    expect(fails({ type: 'braid' }).message).toContain('clusterNetwork');
    expect(fails({ type: 'braid', delegates: [] }).code).toBe(7);
  });

  it.each([[null], [[]], ['braid']])('refuses a non-object %j', (v) => {
    expect(fails(v).code).toBe(7);
  });

  it('requires type', () => {
    expect(fails({ clusterNetwork: 'x' }).message).toContain('type');
  });
});

// The committed schema must be exactly what the zod source generates. To regenerate after
// changing braid-config.ts:  UPDATE_SCHEMAS=1 npx vitest run test/unit/braid-config.test.ts
describe('conflist-schemas/braid.schema.json', () => {
  const file = fileURLToPath(new URL('../../conflist-schemas/braid.schema.json', import.meta.url));
  const expected = `${JSON.stringify(braidConfigJsonSchema(), null, 2)}\n`;

  it('matches braidConfigJsonSchema() byte for byte', () => {
    if (process.env.UPDATE_SCHEMAS === '1') writeFileSync(file, expected);
    let committed = '';
    try {
      committed = readFileSync(file, 'utf8');
    } catch {
      // missing file: the comparison below fails with the hint
    }
    expect(committed, 'braid.schema.json is stale: run UPDATE_SCHEMAS=1 npx vitest run test/unit/braid-config.test.ts').toBe(expected);
  });

  it('is draft 2020-12 with an $id, a title and open additionalProperties', () => {
    const schema = braidConfigJsonSchema();
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe('https://braid.dev/schemas/braid.schema.json');
    expect(schema.title).toBeTruthy();
    expect(schema.additionalProperties).toBe(true);
    expect(schema.required).toEqual(['type']);
  });
});

describe('the JSON Schema agrees with the parser on samples', () => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const validate = ajv.compile(braidConfigJsonSchema());
  it.each([
    [{ type: 'braid', delegates: [flannel], capabilities: { portMappings: true }, Note1: 'x' }, true],
    [{ type: 'braid', clusterNetwork: 'cbr0', globalNamespaces: 'default,a', binDir: '/a:/b', logOptions: { maxAge: 5 } }, true],
    [{ type: 'braid' }, false],
    [{ type: 'braid', delegates: [] }, false],
    [{ type: 'braid', clusterNetwork: 'x', delegateTimeout: 0 }, false],
    [{ type: 'braid', clusterNetwork: 'x', result: 'first' }, false],
    [{ type: 'braid', delegates: [{ name: 'no-type' }] }, false],
  ])('%j valid=%s', (sample, valid) => {
    expect(validate(sample)).toBe(valid);
    let parsed = true;
    try {
      parseBraidConfig(sample);
    } catch {
      parsed = false;
    }
    expect(parsed).toBe(valid);
  });
});
