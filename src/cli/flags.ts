// The one flag parser of braid's operator commands, and the checks they make on their inputs
// before doing anything. Every problem with the command line is a UsageError (exit 2) whose
// message names the flag and the value: "unknown option --bogus", "--cni-conf-dir: /x: no such
// directory". Long options, -h, and the one-letter aliases a command documents (validate's -q).
import { statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

export class UsageError extends Error {}

export interface FlagSpec {
  type: 'string' | 'boolean';
  default?: string | boolean;
  /** A string flag that may repeat; its value is then a string[]. */
  multiple?: boolean;
  /** A one-letter alias, only where the command's help documents it. */
  short?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type FlagValues = Record<string, string | string[] | boolean | undefined>;

export interface CommandLine {
  values: FlagValues;
  positionals: string[];
}

/**
 * argv -> flags and positionals. `--help`/`-h` are always known (values.help). A string flag
 * takes `--flag value` or `--flag=value`; a value that looks like an option must be given with
 * `=`, so `--kubeconfig --watch` is a missing value, not a file named --watch. `--` ends the
 * options; `-` is a positional (stdin).
 */
export function parseCommandLine(argv: readonly string[], specs: FlagSpecs, opts: { positionals?: boolean } = {}): CommandLine {
  const values: FlagValues = {};
  for (const [name, spec] of Object.entries(specs)) if (spec.default !== undefined) values[name] = spec.default;
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      values.help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const alias = arg.length === 2 ? Object.keys(specs).find((k) => specs[k]!.short === arg[1]) : undefined;
    const name = alias ?? (arg.startsWith('--') ? arg.slice(2, eq > 0 ? eq : undefined) : '');
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (!spec) throw new UsageError(`unknown option ${eq > 0 ? arg.slice(0, eq) : arg}`);
    const flag = `--${name}`;
    if (spec.type === 'boolean') {
      if (eq > 0) throw new UsageError(`${flag} takes no value, got ${JSON.stringify(arg.slice(eq + 1))}`);
      values[name] = true;
      continue;
    }
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      if (next.startsWith('--')) throw new UsageError(`${flag} needs a value, got the option ${next} (write ${flag}=${next} if that is the value)`);
      value = next;
      i++;
    }
    if (spec.multiple) {
      const prev = values[name];
      values[name] = [...(Array.isArray(prev) ? prev : []), value];
    } else values[name] = value;
  }
  if (positionals.length > 0 && !opts.positionals) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  return { values, positionals };
}

/** Flags only: any positional is a usage error. */
export function parseFlags(argv: readonly string[], specs: FlagSpecs): FlagValues {
  return parseCommandLine(argv, specs).values;
}

const bad = (flag: string, path: string, problem: string) => new UsageError(`${flag}: ${path}: ${problem}`);

function statOf(flag: string, path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw bad(flag, path, 'a parent of it is not a directory');
    if (code === 'EACCES') throw bad(flag, path, 'permission denied');
    throw bad(flag, path, (e as Error).message);
  }
}

const kind = (st: Stats) => (st.isDirectory() ? 'a directory' : st.isFile() ? 'a file' : st.isSocket() ? 'a socket' : 'not a regular file');

/** A file that must exist now. */
export function existingFile(flag: string, path: string): string {
  const st = statOf(flag, path);
  if (!st) throw bad(flag, path, 'no such file');
  if (!st.isFile()) throw bad(flag, path, `not a file (${kind(st)})`);
  return path;
}

/** A directory that must exist now. */
export function existingDir(flag: string, path: string): string {
  const st = statOf(flag, path);
  if (!st) throw bad(flag, path, 'no such directory');
  if (!st.isDirectory()) throw bad(flag, path, `not a directory (${kind(st)})`);
  return path;
}

/**
 * A directory that exists, or that braid may create (or wait for) because its parent does. A
 * path whose parent is missing too is almost always a typo, so it fails now instead of later.
 */
export function dirOrCreatable(flag: string, path: string): string {
  const st = statOf(flag, path);
  if (st) {
    if (!st.isDirectory()) throw bad(flag, path, `not a directory (${kind(st)})`);
    return path;
  }
  const parent = dirname(path);
  const pst = statOf(flag, parent);
  if (!pst) throw bad(flag, path, `no such directory, nor its parent ${parent}`);
  if (!pst.isDirectory()) throw bad(flag, path, `its parent ${parent} is not a directory`);
  return path;
}

// sun_path is 108 bytes with the terminating NUL.
const MAX_SOCKET_PATH = 107;

/**
 * A unix socket path braid will listen on: short enough, not some other kind of file, and
 * under a directory that exists or can be made (its nearest existing ancestor is a directory).
 */
export function socketPath(flag: string, path: string): string {
  if (path === '') throw bad(flag, '""', 'empty path');
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) throw bad(flag, path, `longer than the ${MAX_SOCKET_PATH} bytes a unix socket path may have`);
  const st = statOf(flag, path);
  if (st && !st.isSocket()) throw bad(flag, path, `exists and is not a socket (${kind(st)})`);
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const dst = statOf(flag, dir);
    if (dst) {
      if (!dst.isDirectory()) throw bad(flag, path, `${dir} is not a directory`);
      return path;
    }
  }
}


/** A duration in seconds, >= 0 (fractions allowed); `dflt` when the flag is absent. */
export function seconds(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag}: ${JSON.stringify(v)}: not a number of seconds >= 0`);
  return n;
}
