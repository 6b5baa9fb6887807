// `braid inspect [container-id | namespace/pod]`: braid's records of the node's containers
// next to what is really in their network namespaces and on the host, and the differences.
import { parseCommandLine, UsageError } from '../cli/flags.js';
import { formatOption } from './gc-command.js';
import { formatInspection, inspectNode } from './inspect.js';
import { DEFAULT_CONFIG, nodeContext } from './node-context.js';

export const INSPECT_HELP = `braid inspect: what braid recorded on this node, what is really there, and the differences

Usage:
  braid inspect [CONTAINER-ID | NAMESPACE/POD] [--config FILE] [--format text|json]

For each container braid has records of (all of them when none is named): the plan (its
attachments, interface names and states), the IPs the result records hold, the interfaces and
addresses really in the pod's netns, the host-local reservations and bandwidth ifbs on the
host, and every difference between them. Exits 1 when a named container has no records.

Options:
  --config FILE      braid's configuration (default ${DEFAULT_CONFIG})
  --format FMT       text (default) or json
  -h, --help         this help
`;

export async function inspectMain(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { config: { type: 'string' }, format: { type: 'string' } }, { positionals: true });
  if (values.help) {
    process.stdout.write(INSPECT_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[1])}`);
  const o = { config: (values.config as string | undefined) ?? DEFAULT_CONFIG, format: formatOption(values.format as string | undefined), which: positionals[0] };
  let found;
  try {
    found = await inspectNode(nodeContext(o.config), o.which);
  } catch (e) {
    process.stderr.write(`braid inspect: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(o.format === 'json' ? `${JSON.stringify({ containers: found }, null, 2)}\n` : formatInspection(found));
  if (o.which && found.length === 0) {
    process.stderr.write(`braid inspect: no records of ${o.which}\n`);
    return 1;
  }
  return 0;
}
