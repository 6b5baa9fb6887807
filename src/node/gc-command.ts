// `braid gc`: removes the records of containers that no longer exist, tearing down what they
// still hold; with --dry-run it lists what it would remove and why.
import { parseFlags, seconds, UsageError } from '../cli/flags.js';
import { sweepLocked, type SweepEntry } from '../meta/sweep.js';
import { DEFAULT_CONFIG, nodeContext } from './node-context.js';

export const DEFAULT_GRACE_SECONDS = 300;

export const GC_HELP = `braid gc: remove records of containers that no longer exist

Usage:
  braid gc [--config FILE] [--dry-run] [--grace SECONDS] [--format text|json]

A plan or result record is an orphan when the network namespace it recorded is gone, as
seen from a netns directory braid can see, and the record is older than the grace period
(so a runtime's own DEL, still on its way, goes first). An orphan's attachments are torn
down (what fails is released directly and reported) and its records removed.

Options:
  --config FILE      braid's configuration (default ${DEFAULT_CONFIG})
  --dry-run          list what would be removed, and why; change nothing
  --grace SECONDS    how old a record of a gone netns must be (default ${DEFAULT_GRACE_SECONDS})
  --format FMT       text (default) or json
  -h, --help         this help
`;

export function formatOption(v: string | undefined): 'text' | 'json' {
  if (v === undefined || v === 'text' || v === 'json') return v ?? 'text';
  throw new UsageError(`--format: ${JSON.stringify(v)}: not text or json`);
}

export function formatSweep(entries: SweepEntry[]): string {
  if (entries.length === 0) return 'no orphan records\n';
  return entries
    .map((e) => `${e.action}: ${e.record} (container ${e.containerId}${e.pod ? `, pod ${e.pod}` : ''}): ${e.reason}${e.errors?.length ? `\n  errors: ${e.errors.join('; ')}` : ''}\n`)
    .join('');
}

export async function gcMain(argv: string[]): Promise<number> {
  const v = parseFlags(argv, {
    config: { type: 'string' },
    'dry-run': { type: 'boolean' },
    grace: { type: 'string' },
    format: { type: 'string' },
  });
  if (v.help) {
    process.stdout.write(GC_HELP);
    return 0;
  }
  const o = { config: (v.config as string | undefined) ?? DEFAULT_CONFIG, dryRun: v['dry-run'] === true, graceMs: seconds('--grace', v.grace as string | undefined, DEFAULT_GRACE_SECONDS) * 1000, format: formatOption(v.format as string | undefined) };
  let entries: SweepEntry[];
  try {
    entries = await sweepLocked(nodeContext(o.config), { graceMs: o.graceMs, dryRun: o.dryRun });
  } catch (e) {
    process.stderr.write(`braid gc: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(o.format === 'json' ? `${JSON.stringify({ dryRun: o.dryRun, records: entries }, null, 2)}\n` : formatSweep(entries));
  return entries.some((e) => e.errors?.length) ? 1 : 0;
}
