/**
 * Errors cross every process boundary as plain data. The set of codes is closed on
 * purpose: the UI and the CLI branch on the code, and show the message as it is.
 */
export const ERROR_CODES = [
  'NOT_FOUND',
  'INVALID_ARGUMENT',
  'NOT_SUPPORTED',
  'CONFLICT',
  'UNAVAILABLE',
  'TIMEOUT',
  'CANCELLED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorData {
  code: ErrorCode;
  message: string;
  /** The driver that raised it, when one did. */
  driver?: string;
  /** For INVALID_ARGUMENT: the dotted path of the offending field. */
  field?: string;
}

export function isErrorData(value: unknown): value is ErrorData {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.message === 'string' && (ERROR_CODES as readonly unknown[]).includes(v.code);
}

/** Process exit codes of the CLI, one per error code (issue #2). */
export const EXIT_CODES: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 2,
  NOT_FOUND: 3,
  NOT_SUPPORTED: 4,
  UNAVAILABLE: 5,
  CONFLICT: 6,
  TIMEOUT: 1,
  CANCELLED: 130,
  INTERNAL: 1,
};

/** What every transport returns for a call: errors are values, never thrown across a boundary. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorData };
