// conflist-schemas/ is a published contract: well-formed draft 2020-12 documents, described,
// one per reference plugin, each accepting the keys every plugin config may carry.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { PLUGINS, SCHEMA_TYPES } from '../../src/validate/plugin-catalog.js';
import { SchemaRegistry } from '../../src/validate/schema-registry.js';
import { REPO } from './helpers.js';

type Json = Record<string, unknown>;
const DIR = join(REPO, 'conflist-schemas');
const load = (f: string) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Json;
const OURS = readdirSync(DIR).filter((f) => f.endsWith('.schema.json') && f !== 'braid.schema.json');
const COMMON = ['cniVersion', 'cniVersions', 'name', 'type', 'capabilities', 'args', 'runtimeConfig', 'prevResult', 'ipam', 'dns'];

describe('conflist-schemas', () => {
  it('has the envelopes and one schema per reference plugin', () => {
    for (const t of SCHEMA_TYPES.filter((t) => t !== 'braid')) expect(OURS).toContain(`${t}.schema.json`);
    expect(OURS).toContain('netconf.schema.json');
    expect(OURS).toContain('netconf-list.schema.json');
  });

  it.each(OURS)('%s is a described draft 2020-12 schema that compiles', (file) => {
    const s = load(file);
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(s.$id).toMatch(new RegExp(`/${file.replace(/\./g, '\\.')}$`));
    expect(typeof s.title).toBe('string');
    expect(String(s.description).length).toBeGreaterThan(20);
    const props = (s.properties ?? {}) as Record<string, Json>;
    for (const [k, v] of Object.entries(props)) {
      if (!('$ref' in v)) expect(typeof v.description, `${file} ${k}`).toBe('string');
    }
    const Ajv = ((Ajv2020Module as unknown as { default?: typeof Ajv2020Module.default }).default ?? Ajv2020Module) as typeof Ajv2020Module.default;
    const ajv = new Ajv({ strict: true, allowUnionTypes: true });
    ajv.addSchema(load('netconf.schema.json'));
    if (file !== 'netconf.schema.json') expect(() => ajv.compile(s)).not.toThrow();
  });

  it('every plugin schema accepts the common keys and cni.dev/* and refuses others', () => {
    for (const file of OURS) {
      const type = file.replace('.schema.json', '');
      if (!PLUGINS[type] || PLUGINS[type].role === 'ipam') continue;
      const s = load(file);
      expect(s.additionalProperties, file).toBe(false);
      expect(Object.keys(s.patternProperties as Json), file).toEqual(['^cni\\.dev/']);
      for (const k of COMMON) expect(Object.keys(s.properties as Json), `${file} ${k}`).toContain(k);
    }
  });

  it('ipam schemas describe the ipam object, with the type pinned', () => {
    for (const t of ['host-local', 'static', 'dhcp']) {
      const s = load(`${t}.schema.json`);
      expect((s.properties as Record<string, Json>).type!.const).toBe(t);
      expect(s.additionalProperties).toBe(false);
    }
  });

  it('the registry compiles every shipped schema, braid.schema.json included when present', async () => {
    const reg = new SchemaRegistry();
    await reg.prepare([...SCHEMA_TYPES, 'netconf', 'netconf-list', 'no-such-type']);
    for (const t of SCHEMA_TYPES) {
      const present = readdirSync(DIR).includes(`${t}.schema.json`);
      expect(reg.get(t) !== null, t).toBe(present);
    }
    expect(reg.get('no-such-type')).toBeNull();
  });
});
