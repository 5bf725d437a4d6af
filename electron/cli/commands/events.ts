import { parseWorkloadId } from '../../../shared/ids.js';
import type { EventFilter, EventKind, EventOrigin, EventRecord } from '../../../shared/observability.js';
import { describeEvent } from '../../../shared/observability.js';
import { NovaError } from '../../core/base/errors.js';
import { intFlag, parse, resolveWorkload } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { onStopSignal } from '../stop-signals.js';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since 10m` / `2h` / `1d`, or an ISO time. */
export function sinceFlag(value: string, flag: string, now = Date.now()): string {
  const rel = /^(\d+)([smhd])$/.exec(value);
  if (rel) return new Date(now - Number(rel[1]) * UNITS[rel[2]!]!).toISOString();
  if (!Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  throw new NovaError('INVALID_ARGUMENT', `--${flag}: must be a time (2025-01-31T12:00:00Z) or an age (30s, 10m, 2h, 1d), got '${value}'`, { field: flag });
}

const line = (r: EventRecord) => `${r.ts}  ${r.kind.padEnd(9)}  ${describeEvent(r)}`;

async function filterOf(values: Record<string, unknown>, ctx: CliContext): Promise<EventFilter> {
  const f: EventFilter = {};
  if (typeof values.since === 'string') f.since = sinceFlag(values.since, 'since');
  if (typeof values.until === 'string') f.until = sinceFlag(values.until, 'until');
  if (typeof values.workload === 'string') f.workloadId = parseWorkloadId(values.workload) ? values.workload : await resolveWorkload(ctx.client, values.workload);
  if (typeof values.driver === 'string') f.driver = values.driver as EventFilter['driver'];
  if (typeof values.origin === 'string') f.origin = values.origin as EventOrigin;
  if (Array.isArray(values.kind)) f.kinds = values.kind as EventKind[];
  if (values.errors === true) f.result = 'error';
  if (typeof values.grep === 'string') f.text = values.grep;
  return f;
}

/**
 * `events`: the durable event log every NovaCron process appends to. Without --follow it
 * prints the newest records and exits; with it, it keeps printing what any process appends.
 */
export const events: Command = async (argv, ctx) => {
  const { values } = parse(
    argv,
    {
      follow: { type: 'boolean', short: 'f' },
      limit: { type: 'string', short: 'n' },
      since: { type: 'string' },
      until: { type: 'string' },
      workload: { type: 'string' },
      driver: { type: 'string' },
      origin: { type: 'string' },
      kind: { type: 'string', multiple: true },
      errors: { type: 'boolean' },
      grep: { type: 'string' },
    },
    { min: 0, max: 0, names: '' },
  );
  const filter = await filterOf(values, ctx);
  const limit = intFlag(values.limit, 'limit');
  const print = (r: EventRecord) => ctx.io.out(values.json ? JSON.stringify(r) : line(r));

  if (!values.follow) {
    const r = await ctx.client.call('events.list', { ...filter, limit: limit ?? 50 });
    r.events.forEach(print);
    if (r.more && !values.json) ctx.io.err(`novacron: older events match too; see them with --limit N or --since`);
    return 0;
  }

  // While following, this process watches the drivers too: a crash is recorded even when nothing else runs.
  const watching = ctx.core.obs.watchDrivers(ctx.core.events);
  return new Promise<number>((resolve, reject) => {
    // The event log's watcher does not keep Node alive by itself.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    let ended = false;
    const finish = () => {
      if (ended) return;
      ended = true;
      clearInterval(keepAlive);
      stop();
      watching.dispose();
      release();
    };
    const release = onStopSignal(() => {
      finish();
      resolve(0);
    });
    const stop = ctx.client.subscribe('eventLog', { ...filter, tail: limit ?? 10 }, {
      event: (recs) => recs.forEach(print),
      error: (e) => {
        finish();
        reject(new NovaError(e.code, e.message));
      },
    });
  });
};
