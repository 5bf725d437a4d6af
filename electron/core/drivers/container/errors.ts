import type { ErrorCode } from '../../../../shared/errors.js';
import { NovaError, driverError, isNodeError } from '../../base/errors.js';

export const D = 'container';

/** The engine's HTTP status → our code. Data, not branches (dockerode does the same). */
export const STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAVAILABLE',
  403: 'NOT_SUPPORTED',
  404: 'NOT_FOUND',
  406: 'CONFLICT',
  409: 'CONFLICT',
  500: 'INTERNAL',
  501: 'NOT_SUPPORTED',
  503: 'UNAVAILABLE',
};

/**
 * Some 500s are the admin's business, not ours: the engine says what is wrong in words
 * only. Checked in order; the engine's message is kept whatever the code.
 */
export const MESSAGE_CODES: readonly (readonly [RegExp, ErrorCode])[] = [
  [/port is already allocated|address already in use/i, 'CONFLICT'],
  // A state the container is (or just got) in, often answered as a 500: another caller moved it first.
  [/\bnot running\b|is not paused|is paused|is already (?:paused|running|in progress)|is restarting|a stopped container|a running process|marked for removal|already in progress/i, 'CONFLICT'],
  [/no such (?:image|container|volume|network)|not found|does not exist/i, 'NOT_FOUND'],
  [/invalid (?:reference|argument|mount|volume)|bind source path/i, 'INVALID_ARGUMENT'],
  [/pull access denied|manifest unknown|repository does not exist/i, 'NOT_FOUND'],
  [/dial tcp|connection refused|no such host|i\/o timeout|TLS handshake timeout/i, 'UNAVAILABLE'],
];

/** Socket-level failures: the engine is not there to ask. */
const SOCKET_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'socket missing',
  EACCES: 'permission denied (is this user in the docker group?)',
  EPERM: 'permission denied',
  ECONNREFUSED: 'engine not answering (connection refused)',
  ECONNRESET: 'engine closed the connection',
  ETIMEDOUT: 'engine not answering (timed out)',
  EHOSTUNREACH: 'host unreachable',
  ENOTFOUND: 'host not found',
  EPIPE: 'engine closed the connection',
};

interface ModemError extends Error {
  statusCode?: number;
  json?: unknown;
}

/** The engine's own words: its JSON body's message, without dockerode's "(HTTP code 404) …" wrapper. */
export function engineMessage(e: ModemError): string {
  const j = e.json;
  if (j && typeof j === 'object' && 'message' in j && typeof (j).message === 'string') return (j as { message: string }).message.trim();
  if (typeof j === 'string' && j.trim()) return j.trim();
  if (Buffer.isBuffer(j) && j.length) return j.toString('utf8').trim();
  return e.message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

export function codeFor(status: number | undefined, message: string): ErrorCode {
  const byStatus = status !== undefined ? STATUS_CODES[status] : undefined;
  if (byStatus && byStatus !== 'INTERNAL') return byStatus;
  for (const [re, code] of MESSAGE_CODES) if (re.test(message)) return code;
  return byStatus ?? 'INTERNAL';
}

/**
 * Anything dockerode throws → a NovaError with our code and the engine's message,
 * prefixed with what we were doing.
 */
export function engineError(e: unknown, what?: string): NovaError {
  if (e instanceof NovaError) return e;
  const prefix = what ? `${what}: ` : '';
  if (e instanceof Error && (e.name === 'AbortError' || (e as { code?: string }).code === 'ABORT_ERR')) {
    return driverError(D, 'CANCELLED', `${prefix}cancelled`, e);
  }
  if (isNodeError(e) && e.code && SOCKET_ERRORS[e.code]) {
    const where = (e as { address?: string }).address;
    return driverError(D, 'UNAVAILABLE', `${prefix}${SOCKET_ERRORS[e.code]}${where ? ` (${where})` : ''}`, e);
  }
  if (e instanceof Error) {
    const me = e as ModemError;
    const message = engineMessage(me);
    if (me.statusCode === undefined && /timed out|timeout/i.test(message)) return driverError(D, 'UNAVAILABLE', `${prefix}engine not answering (${message})`, e);
    if (me.statusCode === undefined && /All configured authentication methods failed|ssh|handshake/i.test(message)) {
      return driverError(D, 'UNAVAILABLE', `${prefix}${message}`, e);
    }
    return driverError(D, codeFor(me.statusCode, message), `${prefix}${message}`, e);
  }
  return driverError(D, 'INTERNAL', `${prefix}${String(e)}`);
}

/** Run an engine call, mapping what it throws. */
export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw engineError(e, what);
  }
}

/** The HTTP status of a modem error, for the few calls where a status means "already done". */
export const statusOf = (e: unknown): number | undefined => (e instanceof Error ? (e as ModemError).statusCode : undefined);
