/**
 * Secrets this process knows (the server token, the scrape token): every line written to
 * a log or a diagnostics bundle passes through scrub() last, so a token that slipped into
 * a message, a URL or an error is replaced, whatever field it hid in.
 */
export const REDACTED = '[redacted]';

/** Shorter strings would redact ordinary words; our tokens are far longer. */
const MIN_SECRET = 8;

export class Secrets {
  private readonly known = new Set<string>();

  add(secret: string | undefined): void {
    if (secret && secret.length >= MIN_SECRET) this.known.add(secret);
  }

  scrub = (text: string): string => {
    let out = text;
    for (const s of this.known) {
      if (out.includes(s)) out = out.split(s).join(REDACTED);
      // A token inside a URL or a JSON string may be escaped or encoded.
      const enc = encodeURIComponent(s);
      if (enc !== s && out.includes(enc)) out = out.split(enc).join(REDACTED);
    }
    return out;
  };
}

/** Key names whose values are never shown: tokens, passwords, keys, credentials. */
const SECRET_KEY = /(token|secret|passw(or)?d|credential|private[_-]?key|api[_-]?key|auth)/i;

/** `scheme://user:password@host` → `scheme://user:[redacted]@host`. */
export function redactUrlPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^@/\s]*@/i, `$1:${REDACTED}@`);
}

/** A copy of a config-like object with every secret-looking value replaced. */
export function redactValues(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (SECRET_KEY.test(k)) out[k] = v === undefined || v === null || v === '' ? v : REDACTED;
    else if (typeof v === 'string') out[k] = redactUrlPassword(v);
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) out[k] = redactValues(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}
