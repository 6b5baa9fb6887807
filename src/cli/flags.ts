// Operator subcommands' flags: node:util parseArgs, strict, no positionals; a bad flag is a
// UsageError (exit 2) whose message names the flag.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

export type FlagValues = Record<string, string | boolean | undefined>;

export function parseFlags(argv: string[], options: NonNullable<ParseArgsConfig['options']>): FlagValues {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options }).values as FlagValues;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
