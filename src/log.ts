// pino to a file or stderr, never stdout: stdout is the CNI protocol (STYLE 7).
import pino, { type Logger } from 'pino';

export type { Logger };
export interface LogOptions {
  logFile?: string | undefined;
  logLevel?: string | undefined;
  logToStderr?: boolean | undefined;
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
// Multus spells levels panic/error/verbose/debug; map them so a Multus config works unchanged.
const ALIASES: Record<string, string> = { panic: 'fatal', verbose: 'info' };

export function normaliseLevel(level: string | undefined): string {
  const l = (level ?? '').toLowerCase();
  const mapped = ALIASES[l] ?? l;
  return LEVELS.has(mapped) ? mapped : 'warn';
}

// Built on first use: a CNI call configures its logger from braid's config straight away, so a
// default one made at import would be thrown away on every call.
let current: Logger | undefined;

export function configureLogger(opts: LogOptions): Logger {
  const level = normaliseLevel(opts.logLevel ?? process.env.BRAID_LOG_LEVEL);
  const streams: pino.StreamEntry[] = [];
  if (opts.logFile) {
    // 0600: log lines can carry pod and network names.
    streams.push({ level: level as pino.Level, stream: pino.destination({ dest: opts.logFile, mkdir: true, sync: true, mode: 0o600 } as Parameters<typeof pino.destination>[0] & object) });
  }
  if (opts.logToStderr || !opts.logFile) streams.push({ level: level as pino.Level, stream: pino.destination(2) });
  current = pino({ level, redact: { paths: ['token', '*.token', 'kubeconfig.users[*].user'], censor: '[redacted]' } }, pino.multistream(streams));
  return current;
}

export const log = (): Logger => (current ??= pino({ level: normaliseLevel(process.env.BRAID_LOG_LEVEL) }, pino.destination(2)));
