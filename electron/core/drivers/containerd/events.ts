import { workloadId } from '../../../../shared/ids.js';
import type { Disposable } from '../../base/lifecycle.js';
import type { WorkloadChange } from '../driver.js';
import { EventChains } from '../common/own-ops.js';
import { isNotFound } from './api/client.js';
import { decodeAny } from './api/codec.js';
import type { Envelope } from './api/messages.js';
import { localOf, type Family } from './context.js';
import { listWorkloads, observe, toInfo } from './workloads.js';

/** The containerd topics that change what a workload looks like. */
const TOPICS = /^\/(tasks|containers)\//;
/** Never more than 2 s apart: a restarted containerd is seen again within moments. */
const BACKOFF_MS = [500, 1000, 2000];

/**
 * containerd's event stream, turned into workload changes: a task that exits, is
 * OOM-killed, paused, started or deleted, and containers made or removed by anyone,
 * reach the UI as they happen. No polling: one subscription per watcher of the driver,
 * re-established with backoff when containerd restarts (and the inventory re-read then,
 * since events sent meanwhile are lost).
 */
export function watchEvents(f: Family, emit: (c: WorkloadChange) => void): Disposable {
  const ac = new AbortController();
  const D = f.profile.id;
  // Other namespaces are shown read-only by the containerd driver; the Kata one shows only its own.
  const filter = f.profile.listsOtherNamespaces ? 'topic~="^/(tasks|containers)/"' : `namespace==${f.client.namespace},topic~="^/(tasks|containers)/"`;

  /** Per workload: its events in order. */
  const chains = new EventChains();

  const handle = async (env: Envelope, local: string, shouldRead: () => Promise<boolean>) => {
    if (env.topic === '/containers/delete') {
      emit({ type: 'removed', id: workloadId(D, local) });
      return;
    }
    const oom = env.topic === '/tasks/oom';
    // The events of this process's own operation are read once it has ended, once for all of
    // them (OwnOps): an OOM kill is said even so.
    if (!(await shouldRead()) && !oom) return;
    try {
      const o = await observe(f, local, ac.signal);
      const info = await toInfo(f, o.t, o.c, o.task);
      emit({ type: 'upsert', info });
      if (oom) emit({ type: 'notice', level: 'warning', message: `${info.name}: out of memory: the kernel killed a process in it`, workloadId: info.id });
    } catch (e) {
      // Deleted meanwhile, or another driver's container: nothing to show.
      if (!isNotFound(e) && !ac.signal.aborted && !(e instanceof Error && /NOT_FOUND|belongs to/.test(e.message))) {
        emit({ type: 'notice', level: 'error', message: `${D}: ${(e as Error).message}` });
      }
    }
  };

  /** Queued behind the workload's earlier events; other workloads' go on beside them. */
  const onEvent = (env: Envelope) => {
    if (!TOPICS.test(env.topic)) return;
    const ev = decodeAny<{ container_id?: string; id?: string }>(env.event)?.value;
    const cid = env.topic.startsWith('/containers/') ? ev?.id : ev?.container_id;
    if (!cid) return;
    const local = localOf(f, env.namespace, cid);
    chains.push(local, () => f.ops.busy(local), (shouldRead) => handle(env, local, shouldRead));
  };

  const run = async () => {
    let attempt = 0;
    let lost = false;
    while (!ac.signal.aborted) {
      try {
        const events = f.client.stream('events.Subscribe', { filters: [filter] }, { timeoutMs: 0, signal: ac.signal });
        if (lost) {
          for (const info of await listWorkloads(f, ac.signal)) emit({ type: 'upsert', info });
          emit({ type: 'notice', level: 'info', message: `${D}: containerd's event stream is back` });
          lost = false;
        }
        for await (const env of events) {
          attempt = 0;
          onEvent(env);
        }
      } catch (e) {
        if (ac.signal.aborted) return;
        if (!lost) emit({ type: 'notice', level: 'error', message: `${D}: lost containerd's event stream: ${(e as Error).message}` });
        lost = true;
      }
      if (ac.signal.aborted) return;
      await new Promise((r) => setTimeout(r, BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)]).unref());
    }
  };
  void run();
  return { dispose: () => ac.abort() };
}
