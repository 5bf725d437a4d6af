import { CAPABILITIES } from '../../../shared/capabilities.js';
import { parse } from '../args.js';
import type { Command } from '../context.js';
import { table } from '../format.js';

export const drivers: Command = async (argv, ctx) => {
  const { values } = parse(argv, { refresh: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
  const list = await ctx.client.call('drivers.list', { refresh: values.refresh === true });
  if (values.json) {
    ctx.io.out(JSON.stringify(list, null, 2));
    return 0;
  }
  ctx.io.out(
    table(
      list.map((d) => [d.id, d.name, d.available ? 'yes' : 'no', d.version ?? '-', d.available ? CAPABILITIES.filter((c) => d.capabilities[c].available).join(',') : (d.reason ?? '')]),
      ['DRIVER', 'NAME', 'AVAILABLE', 'VERSION', 'CAPABILITIES / REASON'],
    ),
  );
  return 0;
};
