import fc from 'fast-check';
import type { z } from 'zod';
import { CONFIG_KEY_NAMES } from '../../shared/config.js';
import { anyValue, hostileNumbers } from './hostile.js';

type Def = { type: string; [k: string]: unknown };
const defOf = (s: z.ZodType) => (s as unknown as { def: Def }).def;

/**
 * Inputs shaped like a schema (so they get past the first check and reach deeper code),
 * with every leaf drawn from hostile values most of the time and from valid-looking
 * ones sometimes. Fields go missing and unknown ones appear.
 */
export function shaped(schema: z.ZodType, strings: string[], safe: (path: string) => fc.Arbitrary<unknown> | undefined, path = ''): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  const own = safe(path);
  const leaf = (valid: fc.Arbitrary<unknown>) =>
    own ? fc.oneof({ weight: 2, arbitrary: own }, { weight: 2, arbitrary: valid }, { weight: 3, arbitrary: anyValue(strings) }) : fc.oneof({ weight: 2, arbitrary: valid }, { weight: 3, arbitrary: anyValue(strings) });
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'nullable':
      return fc.oneof(fc.constant(undefined), shaped(def.innerType as z.ZodType, strings, safe, path));
    case 'pipe':
      return shaped(def.in as z.ZodType, strings, safe, path);
    case 'object': {
      const shape = (schema as unknown as { shape: Record<string, z.ZodType> }).shape;
      const fields = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, shaped(v, strings, safe, path ? `${path}.${k}` : k)]));
      return fc
        .record(fields, { requiredKeys: [] })
        .chain((o) => fc.oneof({ weight: 5, arbitrary: fc.constant(o) }, { weight: 1, arbitrary: fc.constant({ ...o, unexpected: 'field' }) }));
    }
    case 'union':
      return fc.oneof(...(def.options as z.ZodType[]).map((o) => shaped(o, strings, safe, path)));
    case 'literal':
      return leaf(fc.constantFrom(...(def.values as unknown[])));
    case 'enum':
      return leaf(fc.constantFrom(...Object.values(def.entries as Record<string, unknown>)));
    case 'string':
      return leaf(fc.string({ maxLength: 40 }));
    case 'number':
      return leaf(fc.constantFrom(...hostileNumbers, 1, 10, 300));
    case 'boolean':
      return leaf(fc.boolean());
    case 'array':
      return leaf(fc.array(shaped(def.element as z.ZodType, strings, safe, `${path}[]`), { maxLength: 4 }));
    case 'record': {
      // Keys a record really takes here (config keys, environment names) as well as hostile ones.
      const keys = fc.constantFrom(...strings.filter((s) => s.length < 100), 'PATH', 'LD_PRELOAD', 'A', ...CONFIG_KEY_NAMES);
      const values = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...strings.filter((s) => s.length < 100)) }, fc.boolean(), fc.constant(null));
      return leaf(fc.dictionary(keys, values, { maxKeys: 3 }));
    }
    default:
      return anyValue(strings);
  }
}
