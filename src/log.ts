// pino to a file or stderr, never stdout: stdout is the CNI protocol.
// pino itself is loaded and built only when a line is actually written at an enabled level: a
// CNI call at the default `warn` level usually logs nothing and should not pay for it (~2.5 ms).
import { createRequire } from 'node:module';
import type { Logger as PinoLogger, StreamEntry, Level } from 'pino';

export interface LogOptions {
  logFile?: string | undefined;
  logLevel?: string | undefined;
  logToStderr?: boolean | undefined;
}

type LogFn = (objOrMsg: object | string, msg?: string) => void;
export interface Logger {
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
}

const RANK: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
// Multus spells levels panic/error/verbose/debug; map them so a Multus config works unchanged.
const ALIASES: Record<string, string> = { panic: 'fatal', verbose: 'info' };

export function normaliseLevel(level: string | undefined): string {
  const l = (level ?? '').toLowerCase();
  const mapped = ALIASES[l] ?? l;
  return mapped in RANK ? mapped : 'warn';
}

// The bundle is CommonJS: a literal require() there is esbuild's lazily initialised module.
// Unbundled (tests, ts runners) this is plain ESM, where require comes from createRequire.
declare const require: NodeJS.Require | undefined;
function loadPino(): typeof import('pino') {
  const mod = typeof require === 'function' ? require('pino') : createRequire(import.meta.url)('pino');
  return (mod.default ?? mod) as typeof import('pino');
}

function buildPino(opts: LogOptions, level: string): PinoLogger {
  const pino = loadPino();
  const streams: StreamEntry[] = [];
  if (opts.logFile) {
    // 0600: log lines can carry pod and network names.
    streams.push({ level: level as Level, stream: pino.destination({ dest: opts.logFile, mkdir: true, sync: true, mode: 0o600 } as Parameters<typeof pino.destination>[0] & object) });
  }
  if (opts.logToStderr || !opts.logFile) streams.push({ level: level as Level, stream: pino.destination(2) });
  return pino({ level, redact: { paths: ['token', '*.token', 'kubeconfig.users[*].user'], censor: '[redacted]' } }, pino.multistream(streams));
}

function makeLogger(opts: LogOptions): Logger {
  const level = normaliseLevel(opts.logLevel ?? process.env.BRAID_LOG_LEVEL);
  const threshold = RANK[level]!;
  let built: PinoLogger | undefined;
  const method =
    (name: keyof Logger): LogFn =>
    (objOrMsg, msg) => {
      if (RANK[name]! < threshold) return;
      built ??= buildPino(opts, level);
      if (typeof objOrMsg === 'string') built[name](objOrMsg);
      else built[name](objOrMsg, msg);
    };
  return { fatal: method('fatal'), error: method('error'), warn: method('warn'), info: method('info'), debug: method('debug'), trace: method('trace') };
}

let current: Logger | undefined;

export function configureLogger(opts: LogOptions): Logger {
  current = makeLogger(opts);
  return current;
}

export const log = (): Logger => (current ??= makeLogger({}));
