import type { z } from 'zod';
import type { ErrorData, Result } from './errors.js';

/**
 * Parse an input against its schema. A rejection names the first offending field, in
 * the words the form shows next to it: `name: must not contain '/'`.
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown, root = ''): Result<z.output<S>> {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, error: issueToError(r.error.issues, root) };
}

export function issueToError(issues: readonly z.core.$ZodIssue[], root = ''): ErrorData {
  const issue = issues[0];
  if (!issue) return { code: 'INVALID_ARGUMENT', message: 'invalid input' };
  const parts = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
  const field = [root, ...parts.map(String)].filter((p) => p !== '').join('.');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = 'is not a known field';
  else if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'is required';
  else if (issue.code === 'invalid_type') message = message.replace(/^Invalid input: /, '');
  return {
    code: 'INVALID_ARGUMENT',
    message: field ? `${field}: ${message}` : message,
    ...(field ? { field } : {}),
  };
}

/** All field errors at once, keyed by dotted path: what a form renders. */
export function fieldErrors<S extends z.ZodType>(schema: S, input: unknown): Record<string, string> {
  const r = schema.safeParse(input);
  if (r.success) return {};
  const out: Record<string, string> = {};
  for (const issue of r.error.issues) {
    const e = issueToError([issue]);
    const key = e.field ?? '';
    if (!(key in out)) out[key] = e.message.slice(key ? key.length + 2 : 0);
  }
  return out;
}
