import type { Errors } from './useCreateForm.js';

/** The non-empty lines of a box, trimmed. */
export const linesOf = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** Arguments keep their spaces: only empty lines are dropped. */
export const argsOf = (text: string): string[] => text.split('\n').filter((l) => l !== '');

/** KEY=VALUE lines → a record; a line that is not one is an error on `field` in `local`. */
export function pairsOf(text: string, field: string, local: Errors): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of linesOf(text)) {
    const eq = line.indexOf('=');
    if (eq <= 0) local[field] = `'${line}' must look like KEY=VALUE`;
    else out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/**
 * An optional number box: empty is "not set" (undefined); anything else must parse, and be
 * whole if asked. The value is returned even when wrong, so the schema can speak of it too.
 */
export function optionalNumber(text: string, field: string, whole: boolean, local: Errors): number | undefined {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || (whole && !Number.isInteger(n))) local[field] = whole ? 'must be a whole number' : 'must be a number';
  return n;
}

/** `{ [key]: value }` when the value is set, else nothing: spread into a spec so unset fields stay absent. */
export const given = (key: string, value: unknown): Record<string, unknown> => (value === undefined || value === '' ? {} : { [key]: value });
