import { parseArgs, type ParseArgsConfig } from 'node:util';
import { NovaError } from '../core/base/errors.js';
import type { NovaClient } from '../../shared/contract/client.js';
import { parseWorkloadId } from '../../shared/ids.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every command takes. */
export const COMMON: Options = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** parseArgs, with its errors turned into INVALID_ARGUMENT naming the flag. */
export function parse(argv: string[], options: Options, positionals: { min: number; max: number; names: string }) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    // Node's parser explains at length; the first line says it.
    const msg = (e as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/s, '');
    const flag = /'(--?[\w-]+)/.exec(msg)?.[1] ?? 'arguments';
    throw new NovaError('INVALID_ARGUMENT', `${flag}: ${msg}`, { field: flag });
  }
  const n = parsed.positionals.length;
  if (!parsed.values.help && (n < positionals.min || n > positionals.max)) {
    throw new NovaError(
      'INVALID_ARGUMENT',
      `arguments: expected ${positionals.names || 'no arguments'}, got ${n === 0 ? 'none' : parsed.positionals.map((p) => `'${p}'`).join(' ')}`,
      { field: 'arguments' },
    );
  }
  return parsed;
}

export function intFlag(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  if (!/^-?\d+$/.test(s)) throw new NovaError('INVALID_ARGUMENT', `--${flag}: must be a whole number, got '${s}'`, { field: flag });
  return Number(s);
}

export function numFlag(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n)) {
    throw new NovaError('INVALID_ARGUMENT', `--${flag}: must be a number, got '${s}'`, { field: flag });
  }
  return n;
}

/** `--env K=V` pairs into a record; a pair without '=' is refused. */
export function kvFlags(values: unknown, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (values as string[] | undefined) ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new NovaError('INVALID_ARGUMENT', `--${flag}: '${pair}' must look like KEY=VALUE`, { field: flag });
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * A workload as an admin types it: its full id (process:3f9c…), or its name when the
 * name is unique across drivers.
 */
export async function resolveWorkload(client: NovaClient, given: string): Promise<string> {
  if (parseWorkloadId(given)) return given;
  const { workloads } = await client.call('workloads.list', {});
  const hits = workloads.filter((w) => w.name === given || w.id.endsWith(`:${given}`));
  if (hits.length === 1) return hits[0]!.id;
  if (hits.length > 1) {
    throw new NovaError('CONFLICT', `'${given}' names ${hits.length} workloads (${hits.map((h) => h.id).join(', ')}): give the full id`);
  }
  throw new NovaError('NOT_FOUND', `no workload named '${given}' (see \`novacron ls\`)`);
}
