import { CONFIG_KEYS, isConfigKey } from '../../../shared/config.js';
import { NovaError } from '../../core/base/errors.js';
import { parse } from '../args.js';
import type { Command } from '../context.js';
import { table } from '../format.js';

/** `config` (show) · `config set KEY VALUE` · `config unset KEY` */
export const config: Command = async (argv, ctx) => {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'get' || sub.startsWith('--')) {
    const { values } = parse(sub === 'get' ? rest : argv, {}, { min: 0, max: 0, names: '' });
    const c = await ctx.client.call('config.get', {});
    if (values.json) ctx.io.out(JSON.stringify(c, null, 2));
    else {
      ctx.io.out(`# ${c.file}`);
      ctx.io.out(table(Object.entries(c.config).map(([k, v]) => [k, String(v), c.sources[k] ?? 'default', CONFIG_KEYS[k as keyof typeof CONFIG_KEYS].env]), ['KEY', 'VALUE', 'FROM', 'ENV']));
    }
    return 0;
  }
  if (sub === 'set' || sub === 'unset') {
    const { positionals } = parse(rest, {}, sub === 'set' ? { min: 2, max: 2, names: 'KEY VALUE' } : { min: 1, max: 1, names: 'KEY' });
    const key = positionals[0]!;
    if (!isConfigKey(key)) throw new NovaError('INVALID_ARGUMENT', `${key}: is not a configuration key`, { field: key });
    let value: string | boolean | null = sub === 'unset' ? null : positionals[1]!;
    if (value !== null && CONFIG_KEYS[key].schema.safeParse(true).success && /^(true|false)$/.test(value)) value = value === 'true';
    const r = await ctx.client.call('config.set', { values: { [key]: value } });
    ctx.io.out(`${key} = ${String(r.config[key])} (${r.file})`);
    return 0;
  }
  throw new NovaError('INVALID_ARGUMENT', `config: expected get, set or unset, got '${sub}'`, { field: 'arguments' });
};
