import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE = 'novacron_token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Compare in constant time: both sides are hashed first so lengths never leak either. */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** The token a request carries: cookie (browsers), Bearer header (scripts), or ?token= (the printed URL). */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return cookieValue(req, COOKIE) ?? url.searchParams.get('token') ?? undefined;
}

/**
 * Slows down guessing: after a few failures from one address, that address is refused
 * outright for a while. A token has 192 bits, so this protects the logs more than the token.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();
  constructor(
    private readonly limit = 10,
    private readonly windowMs = 60_000,
  ) {}

  blocked(addr: string): boolean {
    const f = this.failures.get(addr);
    if (!f) return false;
    if (Date.now() - f.since > this.windowMs) {
      this.failures.delete(addr);
      return false;
    }
    return f.count >= this.limit;
  }

  fail(addr: string): void {
    const f = this.failures.get(addr);
    if (!f || Date.now() - f.since > this.windowMs) this.failures.set(addr, { count: 1, since: Date.now() });
    else f.count++;
    if (this.failures.size > 10_000) this.failures.clear();
  }

  succeed(addr: string): void {
    this.failures.delete(addr);
  }
}
