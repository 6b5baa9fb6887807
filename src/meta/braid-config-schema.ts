// The published JSON Schema for braid's config, generated from the zod source so the two cannot
// drift. conflist-schemas/braid.schema.json is this function's output; the unit test
// test/unit/braid-config.test.ts compares them and rewrites the file when UPDATE_SCHEMAS=1.
import * as z from '../cni/zod.js';
import { BraidConfigSchema } from './braid-config.js';

export const BRAID_SCHEMA_ID = 'https://braid.dev/schemas/braid.schema.json';

export function braidConfigJsonSchema(): Record<string, unknown> {
  // io "input": what a user writes (defaults optional); transforms are described by their input.
  const { $schema: _drop, ...generated } = z.toJSONSchema(BraidConfigSchema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: BRAID_SCHEMA_ID,
    title: 'braid CNI meta-plugin configuration',
    description:
      'The "type": "braid" plugin config. Multus key names and meanings; unknown keys are allowed (runtimes inject more) and braid logs them.',
    ...generated,
    // Multus's rule "at least one delegate/clusterNetwork must be specified" (a zod check, not a shape).
    anyOf: [
      { required: ['clusterNetwork'], properties: { clusterNetwork: {} } }, // properties too: ajv's strictRequired
      { required: ['delegates'], properties: { delegates: { type: 'array', minItems: 1 } } },
    ],
    additionalProperties: true,
  };
}
