// The one wire error type (SPEC.md "Error"): inner code throws CniError with context,
// the edge renders it once as {cniVersion, code, msg, details}.

export const Code = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnv: 4,
  IOFailure: 5,
  DecodeFailure: 6,
  InvalidConfig: 7,
  InvalidNetns: 8, // libcni addition
  TryAgainLater: 11,
  NotAvailable: 50,
  NotAvailableImpaired: 51,
  Internal: 999,
} as const;
export type CniCode = number;

export interface CniErrorJSON {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export class CniError extends Error {
  readonly code: CniCode;
  readonly details: string | undefined;

  constructor(code: CniCode, msg: string, details?: string) {
    super(msg);
    this.name = 'CniError';
    this.code = code;
    this.details = details || undefined;
  }

  /** Same code, message prefixed with where it happened ("network x: plugin bridge: ..."). */
  withContext(context: string): CniError {
    return new CniError(this.code, `${context}: ${this.message}`, this.details);
  }

  toJSON(cniVersion: string): CniErrorJSON {
    const out: CniErrorJSON = { cniVersion, code: this.code, msg: this.message };
    if (this.details) out.details = this.details;
    return out;
  }
}

export const isCniError = (e: unknown): e is CniError => e instanceof CniError;

/** Anything that is not already a CniError becomes 999, keeping its message but no stack. */
export function toCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (e instanceof Error) return new CniError(Code.Internal, e.message || e.name);
  return new CniError(Code.Internal, String(e));
}

export const invalidConfig = (msg: string, details?: string) => new CniError(Code.InvalidConfig, msg, details);
export const decodeFailure = (msg: string, details?: string) => new CniError(Code.DecodeFailure, msg, details);
export const ioFailure = (msg: string, details?: string) => new CniError(Code.IOFailure, msg, details);
export const invalidEnv = (msg: string, details?: string) => new CniError(Code.InvalidEnv, msg, details);
export const tryAgainLater = (msg: string, details?: string) => new CniError(Code.TryAgainLater, msg, details);
