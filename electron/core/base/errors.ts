import type { ErrorCode, ErrorData } from '../../../shared/errors.js';
import { isErrorData } from '../../../shared/errors.js';

/** The one error type the core throws; it turns into ErrorData at every boundary. */
export class NovaError extends Error {
  readonly code: ErrorCode;
  readonly driver?: string;
  readonly field?: string;

  constructor(code: ErrorCode, message: string, opts: { driver?: string; field?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'NovaError';
    this.code = code;
    if (opts.driver !== undefined) this.driver = opts.driver;
    if (opts.field !== undefined) this.field = opts.field;
  }

  toData(): ErrorData {
    return {
      code: this.code,
      message: this.message,
      ...(this.driver !== undefined ? { driver: this.driver } : {}),
      ...(this.field !== undefined ? { field: this.field } : {}),
    };
  }
}

export const invalid = (field: string, message: string, driver?: string) =>
  new NovaError('INVALID_ARGUMENT', `${field}: ${message}`, { field, ...(driver ? { driver } : {}) });

/** Errors from a driver say which driver: "process: workload 'web' not found". */
export function driverError(driver: string, code: ErrorCode, message: string, cause?: unknown): NovaError {
  return new NovaError(code, `${driver}: ${message}`, { driver, cause });
}

/** Anything thrown → ErrorData. Unknown errors keep their message: the UI shows the real cause. */
export function toErrorData(e: unknown): ErrorData {
  if (e instanceof NovaError) return e.toData();
  if (isErrorData(e)) return { code: e.code, message: e.message, ...(e.driver ? { driver: e.driver } : {}) };
  if (e instanceof Error && e.name === 'AbortError') return { code: 'CANCELLED', message: 'the operation was cancelled' };
  // A full or read-only disk is the host's state, not a bug: say so in words an admin acts on.
  const full = storageProblem(e);
  if (full) return { code: 'UNAVAILABLE', message: full };
  if (e instanceof Error) return { code: 'INTERNAL', message: e.message || e.name };
  return { code: 'INTERNAL', message: String(e) };
}

export function isNodeError(e: unknown, code?: string): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && (code === undefined || (e as NodeJS.ErrnoException).code === code);
}

const STORAGE: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
};

/** "no space left on the device: cannot write /data/x (ENOSPC)", or undefined when e is not a storage error. */
export function storageProblem(e: unknown): string | undefined {
  if (!isNodeError(e) || !e.code || !(e.code in STORAGE)) return undefined;
  return `${STORAGE[e.code]}${e.path ? `: cannot write ${e.path}` : ''} (${e.code})`;
}
