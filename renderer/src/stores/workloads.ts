import { create } from 'zustand';
import type { WorkloadInfo } from '../../../shared/model.js';
import type { Action } from '../../../shared/actions.js';
import { client } from '../transport/client.js';
import { notify } from './notices.js';

type Change = { type: 'upsert'; info: WorkloadInfo } | { type: 'removed'; id: string };

interface WorkloadsState {
  byId: Record<string, WorkloadInfo>;
  /** Ids by name; a new array only when a workload comes, goes or is renamed. */
  ids: string[];
  /** Drivers whose listing failed (engine down): shown, never an empty list in disguise. */
  errors: { driver: string; message: string }[];
  /** The action running on a workload, so its buttons show busy until the state arrives. */
  busy: Record<string, Action | undefined>;
  loaded: boolean;
  load: () => Promise<void>;
  upsert: (w: WorkloadInfo) => void;
  remove: (id: string) => void;
  apply: (changes: readonly Change[]) => void;
  setBusy: (id: string, action: Action | undefined) => void;
}

const order = (byId: Record<string, WorkloadInfo>) =>
  Object.values(byId)
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
    .map((w) => w.id);

function same(a: WorkloadInfo, b: WorkloadInfo): boolean {
  return (
    a.state === b.state &&
    a.name === b.name &&
    a.summary === b.summary &&
    a.startedAt === b.startedAt &&
    a.runtime === b.runtime &&
    a.managed === b.managed &&
    JSON.stringify(a.exit) === JSON.stringify(b.exit) &&
    a.createdAt === b.createdAt
  );
}

export const useWorkloads = create<WorkloadsState>((set, get) => ({
  byId: {},
  ids: [],
  errors: [],
  busy: {},
  loaded: false,
  async load() {
    // Building the locale's collator (names sort with it) takes some 15 ms the first time
    // in a page: done in a task of its own while the listing is on its way, not in the one
    // that shows it.
    setTimeout(() => 'a'.localeCompare('b'));
    try {
      const r = await client.call('workloads.list', {});
      const byId = Object.fromEntries(r.workloads.map((w) => [w.id, w]));
      set({ byId, ids: order(byId), errors: r.errors, loaded: true });
    } catch (e) {
      notify('error', `Cannot list workloads: ${(e as Error).message}`);
    }
  },
  upsert: (info) => get().apply([{ type: 'upsert', info }]),
  remove: (id) => get().apply([{ type: 'removed', id }]),
  /**
   * Many changes, one store update: at 1,000 workloads changing every second the page
   * re-renders once per batch, and only the rows whose own workload changed.
   */
  apply(changes) {
    const prev = get().byId;
    let byId: Record<string, WorkloadInfo> | undefined;
    let reorder = false;
    for (const c of changes) {
      const cur = (byId ?? prev)[c.type === 'upsert' ? c.info.id : c.id];
      if (c.type === 'upsert') {
        if (cur && same(cur, c.info)) continue;
        byId ??= { ...prev };
        byId[c.info.id] = c.info;
        if (!cur || cur.name !== c.info.name) reorder = true;
      } else if (cur) {
        byId ??= { ...prev };
        delete byId[c.id];
        reorder = true;
      }
    }
    if (!byId) return;
    set(reorder ? { byId, ids: order(byId) } : { byId });
  },
  setBusy(id, action) {
    set({ busy: { ...get().busy, [id]: action } });
  },
}));

/** One workload by id: a component using it re-renders only when that workload changes. */
export const useWorkload = (id: string) => useWorkloads((s) => s.byId[id]);

/** Pushed changes wait here a moment and are applied together. */
const queue: Change[] = [];
let flushTimer: ReturnType<typeof setTimeout> | undefined;
const BATCH_MS = 50;

export function queueChange(c: Change): void {
  queue.push(c);
  flushTimer ??= setTimeout(() => {
    flushTimer = undefined;
    useWorkloads.getState().apply(queue.splice(0));
  }, BATCH_MS);
}
