// libcni buildOneConfig + injectRuntimeConfig (libcni/api.go).
import { describe, expect, it } from 'vitest';
import { buildPluginConfig, describePlugin } from '../../src/engine/plugin-config.js';

const prev = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }], dns: {} };

describe('buildPluginConfig', () => {
  it('injects name and cniVersion over the plugin own', () => {
    const plugin = { type: 'bridge', name: 'other', cniVersion: '0.3.0', bridge: 'cni0' };
    expect(buildPluginConfig(plugin, 'net1', '1.0.0', undefined)).toStrictEqual({
      type: 'bridge',
      name: 'net1',
      cniVersion: '1.0.0',
      bridge: 'cni0',
    });
  });

  it('leaves every other key (nested, reserved) untouched and the input unmodified', () => {
    const plugin = {
      type: 'bridge',
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.0.0.0/24' }]], kubeconfig: '/etc/k' },
      args: { cni: { ips: ['10.0.0.9/24'] } },
      'cni.dev/x': 1,
      capabilities: { mac: true },
      zz: null,
    };
    const copy = structuredClone(plugin);
    const out = buildPluginConfig(plugin, 'n', '1.1.0', { mac: 'aa:bb:cc:dd:ee:ff' }, prev);
    expect(plugin).toStrictEqual(copy);
    expect(out.ipam).toStrictEqual(copy.ipam);
    expect(out.args).toStrictEqual(copy.args);
    expect(out['cni.dev/x']).toBe(1);
    expect(out.zz).toBeNull();
  });

  it('drops capabilities', () => {
    const out = buildPluginConfig({ type: 'portmap', capabilities: { portMappings: true } }, 'n', '1.0.0', {});
    expect(out).not.toHaveProperty('capabilities');
  });

  it('runtimeConfig holds only capabilities declared true and present in the args', () => {
    const plugin = { type: 'x', capabilities: { portMappings: true, bandwidth: false, mac: true, ips: true } };
    const capArgs = {
      portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
      bandwidth: { ingressRate: 1000 },
      mac: 'aa:bb:cc:dd:ee:ff',
      dns: { servers: ['1.1.1.1'] },
    };
    expect(buildPluginConfig(plugin, 'n', '1.0.0', capArgs).runtimeConfig).toStrictEqual({
      portMappings: capArgs.portMappings,
      mac: 'aa:bb:cc:dd:ee:ff',
    });
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown> | undefined]>([
    ['no capabilities declared', { type: 'x' }, { mac: 'aa' }],
    ['none enabled', { type: 'x', capabilities: { mac: false } }, { mac: 'aa' }],
    ['none given', { type: 'x', capabilities: { mac: true } }, {}],
    ['no args at all', { type: 'x', capabilities: { mac: true } }, undefined],
    ['inherited names only', { type: 'x', capabilities: { toString: true, constructor: true, hasOwnProperty: true } }, {}],
  ])('no runtimeConfig when %s', (_what, plugin, capArgs) => {
    expect(buildPluginConfig(plugin, 'n', '1.0.0', capArgs)).not.toHaveProperty('runtimeConfig');
  });

  it('passes a falsy capability value when declared and given', () => {
    expect(buildPluginConfig({ type: 'x', capabilities: { aliases: true } }, 'n', '1.0.0', { aliases: [] }).runtimeConfig).toStrictEqual({
      aliases: [],
    });
  });

  it('includes prevResult only when given, replacing any in the plugin', () => {
    expect(buildPluginConfig({ type: 'x' }, 'n', '1.0.0', undefined)).not.toHaveProperty('prevResult');
    expect(buildPluginConfig({ type: 'x' }, 'n', '1.0.0', undefined, prev).prevResult).toBe(prev);
    expect(buildPluginConfig({ type: 'x', prevResult: { old: 1 } }, 'n', '1.0.0', undefined, prev).prevResult).toBe(prev);
  });
});

describe('describePlugin', () => {
  it('names the type and its ipam', () => {
    expect(describePlugin({ type: 'bridge' })).toBe('bridge');
    expect(describePlugin({ type: 'bridge', ipam: { type: 'host-local' } })).toBe('bridge (ipam host-local)');
  });
});
