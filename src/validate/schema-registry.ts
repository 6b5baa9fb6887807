// The JSON Schemas of conflist-schemas/, compiled once per run and only for the types a run
// meets. The template-literal import lets esbuild bundle every schema file present at build
// time into dist/braid (braid.schema.json included when it exists), so nothing is read from disk.
import Ajv2020Module from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { hasSchemaFile } from './plugin-catalog.js';

type AjvClass = typeof Ajv2020Module.default;
const Ajv2020 = ((Ajv2020Module as unknown as { default?: AjvClass }).default ?? Ajv2020Module) as AjvClass;

export const ENVELOPE_LIST = 'netconf-list';
export const ENVELOPE_SINGLE = 'netconf';

async function importSchema(name: string): Promise<Record<string, unknown> | undefined> {
  try {
    const mod = (await import(`../../conflist-schemas/${name}.schema.json`, { with: { type: 'json' } })) as { default: Record<string, unknown> };
    return mod.default;
  } catch {
    return undefined; // not shipped (e.g. braid.schema.json before it is generated)
  }
}

export class SchemaRegistry {
  private readonly ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false, validateSchema: false, allowUnionTypes: true });
  private readonly compiled = new Map<string, ValidateFunction | null>();
  private base: Promise<void> | undefined;

  private loadBase(): Promise<void> {
    return (this.base ??= (async () => {
      const netconf = await importSchema(ENVELOPE_SINGLE);
      if (!netconf) throw new Error('conflist-schemas/netconf.schema.json is missing from this build');
      this.ajv.addSchema(netconf);
    })());
  }

  /** Load and compile the schemas of these names (plugin types or envelopes), once each. */
  async prepare(names: Iterable<string>): Promise<void> {
    await this.loadBase();
    const wanted = [...new Set(names)].filter((n) => !this.compiled.has(n));
    const loaded = await Promise.all(
      wanted.map(async (n) => [n, n === ENVELOPE_LIST || n === ENVELOPE_SINGLE || hasSchemaFile(n) ? await importSchema(n) : undefined] as const),
    );
    for (const [name, schema] of loaded) {
      if (!schema) {
        this.compiled.set(name, null);
        continue;
      }
      const id = typeof schema.$id === 'string' ? schema.$id : undefined;
      this.compiled.set(name, (id && this.ajv.getSchema(id)) || this.ajv.compile(schema));
    }
  }

  /** The compiled validator, null when the type has no schema. Call prepare() first. */
  get(name: string): ValidateFunction | null {
    return this.compiled.get(name) ?? null;
  }
}
