import { parseWorkloadId } from '../../../shared/ids.js';
import { toErrorData } from '../base/errors.js';
import { DisposableStore, toDisposable } from '../base/lifecycle.js';
import type { Core } from '../core.js';
import { observabilityStreams } from '../observability/methods.js';
import { metricsBatchStream } from '../control-room/metrics-batch.js';
import type { StreamImpl } from './router.js';

const DEFAULT_TERMINAL = { cols: 80, rows: 24 };

/**
 * The contract's streams. Each returns a Disposable that releases everything it opened;
 * transports dispose them when the subscriber leaves or its window/socket closes.
 */
export function createStreams(core: Core): StreamImpl {
  return {
    events: (_input, sink) => core.events.subscribe((e) => sink.event(e)),

    metrics: ({ id }, sink) => {
      const store = new DisposableStore();
      const ref = parseWorkloadId(id)!;
      core.drivers
        .require(ref.driver, 'metrics')
        .then((d) => d.info(ref.local, AbortSignal.timeout(10_000)))
        .then(
          () => {
            if (!store.isDisposed) store.add(core.metrics.watch(id, (samples) => sink.event(samples)));
          },
          (e: unknown) => sink.error?.(toErrorData(e)),
        );
      return store;
    },

    logs: ({ id, follow, tail }, sink) => {
      const store = new DisposableStore();
      const ref = parseWorkloadId(id)!;
      core.drivers.require(ref.driver, 'logs').then(
        (d) => {
          if (store.isDisposed) return;
          store.add(
            d.logs!(ref.local, { follow: follow ?? false, ...(tail !== undefined ? { tail } : {}) }, {
              line: (l) => sink.event(l),
              end: () => sink.end?.(),
              error: (e) => sink.error?.(toErrorData(e)),
            }),
          );
        },
        (e: unknown) => sink.error?.(toErrorData(e)),
      );
      return store;
    },

    terminal: ({ id, kind, cols, rows, command }, sink, meta) => {
      const store = new DisposableStore();
      const ref = parseWorkloadId(id)!;
      const ac = new AbortController();
      store.add(toDisposable(() => ac.abort()));
      core.drivers
        .require(ref.driver, 'terminal')
        .then((d) =>
          d.terminal!(
            ref.local,
            {
              ...(kind ? { kind } : {}),
              cols: cols ?? DEFAULT_TERMINAL.cols,
              rows: rows ?? DEFAULT_TERMINAL.rows,
              ...(command ? { command } : {}),
            },
            ac.signal,
          ),
        )
        .then(
          (session) => {
            if (store.isDisposed) {
              session.dispose();
              return;
            }
            const sid = core.terminals.add(session, meta.client);
            store.add(toDisposable(() => core.terminals.remove(sid)));
            store.add(session.onData((data) => sink.event({ type: 'data', data })));
            store.add(
              session.onExit((code) => {
                sink.event({ type: 'exit', ...(code !== undefined ? { code } : {}) });
                sink.end?.();
              }),
            );
            sink.event({ type: 'ready', session: sid });
          },
          (e: unknown) => sink.error?.(toErrorData(e)),
        );
      return store;
    },

    ...observabilityStreams(core),
    ...metricsBatchStream(core),
  };
}
