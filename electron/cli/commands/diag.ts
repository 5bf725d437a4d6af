import { resolve } from 'node:path';
import { intFlag, parse } from '../args.js';
import type { Command } from '../context.js';
import { callWithProgress } from './workloads.js';

/** `diag`: one tar.gz with engine versions, the capability matrix, redacted config, recent events and logs. */
export const diag: Command = async (argv, ctx) => {
  const { values } = parse(
    argv,
    { out: { type: 'string', short: 'o' }, events: { type: 'string' }, 'log-lines': { type: 'string' } },
    { min: 0, max: 0, names: '' },
  );
  const events = intFlag(values.events, 'events');
  const logLines = intFlag(values['log-lines'], 'log-lines');
  const r = await callWithProgress(ctx, 'diag.create', {
    ...(typeof values.out === 'string' ? { out: resolve(values.out) } : {}),
    ...(events !== undefined ? { events } : {}),
    ...(logLines !== undefined ? { logLines } : {}),
  });
  ctx.io.out(values.json ? JSON.stringify(r, null, 2) : r.file);
  return 0;
};
