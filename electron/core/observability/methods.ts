import { DIAG_DEFAULTS } from '../../../shared/observability.js';
import type { WorkloadInfo } from '../../../shared/model.js';
import { toErrorData } from '../base/errors.js';
import { DisposableStore } from '../base/lifecycle.js';
import type { MethodImpl, StreamImpl } from '../api/router.js';
import type { Core } from '../core.js';
import { writeBundle } from './diag/bundle.js';
import { appVersion } from './index.js';

const DEFAULT_LIMIT = 200;

/** The contract's observability methods; spread into api/methods.ts. */
export function observabilityMethods(core: Core): Pick<MethodImpl, 'events.list' | 'diag.create'> {
  return {
    'events.list': async ({ limit, ...filter }, ctx) => core.obs.events.list(filter, limit ?? DEFAULT_LIMIT, ctx.signal),

    'diag.create': async ({ out, events, logLines }, ctx) => {
      ctx.progress({ label: 'detecting every engine', done: 0, total: 3, unit: 'steps' });
      const drivers = await core.drivers.infoAll(true);
      ctx.progress({ label: 'listing workloads', done: 1, total: 3, unit: 'steps' });
      const { drivers: usable } = await core.drivers.available();
      const errors: { driver: string; code: string; message: string }[] = [];
      const lists = await Promise.all(
        usable.map((d) =>
          d.list(ctx.signal).catch((e: unknown): WorkloadInfo[] => {
            // Recorded in the bundle: an engine that cannot list is exactly what it is for.
            const err = toErrorData(e);
            errors.push({ driver: d.id, code: err.code, message: err.message });
            return [];
          }),
        ),
      );
      ctx.signal.throwIfAborted();
      ctx.progress({ label: 'writing the bundle', done: 2, total: 3, unit: 'steps' });
      const recent = await core.obs.events.list({}, events ?? DIAG_DEFAULTS.events, ctx.signal);
      const result = await writeBundle(
        {
          version: appVersion(),
          role: core.obs.role,
          paths: core.paths,
          config: core.config,
          drivers,
          workloads: { workloads: lists.flat(), errors },
          events: recent.events,
          logFile: core.obs.logFile,
          logLines: logLines ?? DIAG_DEFAULTS.logLines,
          env: core.env,
          scrub: core.obs.secrets.scrub,
        },
        out,
        core.config.config.node_id,
      );
      core.obs.log.info({ file: result.file, bytes: result.bytes }, 'diagnostics bundle written');
      return result;
    },
  };
}

/** The eventLog stream: the last `tail` records, then every record any process appends. */
export function observabilityStreams(core: Core): Pick<StreamImpl, 'eventLog'> {
  return {
    eventLog: ({ tail, ...filter }, sink) => {
      const store = new DisposableStore();
      const log = core.obs.events;
      void (async () => {
        // Follow from where the log ends now; the backlog read after it may overlap: drop repeats.
        const from = await log.position();
        const seen = new Set<string>();
        let backlogDone = false;
        const early: Parameters<typeof sink.event>[0] = [];
        store.add(
          log.follow(
            from,
            filter,
            (recs) => {
              if (!backlogDone) early.push(...recs);
              else sink.event(recs);
            },
            (e) => sink.error?.(toErrorData(e)),
          ),
        );
        const { events } = (tail ?? 0) > 0 ? await log.list(filter, tail!) : { events: [] };
        for (const r of events) seen.add(r.id);
        const fresh = early.filter((r) => !seen.has(r.id));
        backlogDone = true;
        if (store.isDisposed) return;
        if (events.length || fresh.length) sink.event([...events, ...fresh]);
      })().catch((e: unknown) => sink.error?.(toErrorData(e)));
      return store;
    },
  };
}
