import { z } from 'zod';
import { DRIVER_IDS } from './ids.js';

/**
 * Field schemas every driver's create spec and every method reuse, so a name is checked
 * the same way in the form, the CLI and the core.
 */

/**
 * The message for a value of the wrong type: "is required" when it is missing, so a form
 * and the CLI say the same thing.
 */
export function mustBe(what: string) {
  return (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`);
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what we reject
const CONTROL = /[\u0000-\u001f\u007f]/;

export const nameSchema = z
  .string({ error: mustBe('a string') })
  .superRefine((value, ctx) => {
    const problem = nameProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Why a workload name is refused, or undefined. Shared by the form's live validation. */
export function nameProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (value.length > 63) return 'must be at most 63 characters';
  if (value.includes('/')) return "must not contain '/'";
  if (value.includes('..')) return "must not contain '..'";
  if (CONTROL.test(value)) return 'must not contain control characters';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) {
    return 'must start with a letter or digit and hold only letters, digits, _ . -';
  }
  return undefined;
}

export const workloadIdSchema = z
  .string({ error: mustBe('a string') })
  .min(1, 'must not be empty')
  .max(300, 'is too long')
  .refine((v) => !CONTROL.test(v), 'must not contain control characters')
  .refine((v) => {
    const at = v.indexOf(':');
    return at > 0 && (DRIVER_IDS as readonly string[]).includes(v.slice(0, at)) && at < v.length - 1;
  }, `must look like DRIVER:ID with DRIVER one of ${DRIVER_IDS.join(', ')}`);

export const driverIdSchema = z.enum(DRIVER_IDS, { error: `must be one of ${DRIVER_IDS.join(', ')}` });

/** An absolute path on the core's host. Existence is checked by the core, which owns the filesystem. */
export const absolutePathSchema = z
  .string({ error: mustBe('a string') })
  .min(1, 'must not be empty')
  .max(4096, 'is too long')
  .refine((v) => v.startsWith('/'), 'must be an absolute path')
  .refine((v) => !CONTROL.test(v), 'must not contain control characters');

export const envSchema = z.record(
  z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names hold letters, digits and _ and do not start with a digit')
    .max(256),
  z
    .string({ error: mustBe('a string') })
    .max(128 * 1024, 'is too long')
    .refine((v) => !v.includes('\u0000'), 'must not contain NUL'),
);

export const argSchema = z
  .string({ error: mustBe('a string') })
  .max(128 * 1024, 'is too long')
  .refine((v) => !v.includes('\u0000'), 'must not contain NUL');

/** Seconds to wait for a graceful stop before forcing it. */
export const timeoutSecSchema = z
  .number({ error: mustBe('a number') })
  .int('must be a whole number of seconds')
  .min(0, 'must not be negative')
  .max(3600, 'must be at most 3600');

export const snapshotNameSchema = nameSchema;

export const memoryMbSchema = z
  .number({ error: mustBe('a number') })
  .int('must be a whole number of MiB')
  .min(4, 'must be at least 4 MiB')
  .max(16 * 1024 * 1024, 'is larger than any host');
