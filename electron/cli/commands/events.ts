import { NovaError } from '../../core/base/errors.js';
import { parse } from '../args.js';
import type { Command } from '../context.js';

/** `events --follow`: the core's event stream as it happens. */
export const events: Command = async (argv, ctx) => {
  const { values } = parse(argv, { follow: { type: 'boolean', short: 'f' } }, { min: 0, max: 0, names: '' });
  if (!values.follow) throw new NovaError('NOT_SUPPORTED', 'events: past events are not recorded yet; use --follow to watch them live');
  return new Promise<number>(() => {
    ctx.client.subscribe('events', {}, {
      event: (e) => {
        if (values.json) return ctx.io.out(JSON.stringify(e));
        const at = new Date().toISOString();
        if (e.type === 'workload') ctx.io.out(`${at} ${e.info.id} ${e.info.name} ${e.info.state}`);
        else if (e.type === 'workload-removed') ctx.io.out(`${at} ${e.id} removed`);
        else if (e.type === 'notice') ctx.io.out(`${e.at} ${e.level}: ${e.message}`);
        else ctx.io.out(`${at} ${e.progress.workloadId ?? ''} ${e.progress.label} ${e.progress.done}/${e.progress.total ?? '?'}`);
      },
    });
  });
};
