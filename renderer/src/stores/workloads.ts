import { create } from 'zustand';
import type { WorkloadInfo } from '../../../shared/model.js';
import type { Action } from '../../../shared/actions.js';
import { client } from '../transport/client.js';
import { notify } from './notices.js';

interface WorkloadsState {
  byId: Record<string, WorkloadInfo>;
  /** Ids in display order; changes only when a workload comes or goes. */
  ids: string[];
  /** Drivers whose listing failed (engine down): shown, never an empty list in disguise. */
  errors: { driver: string; message: string }[];
  /** The action running on a workload, so its buttons show busy until the state arrives. */
  busy: Record<string, Action | undefined>;
  loaded: boolean;
  load: () => Promise<void>;
  upsert: (w: WorkloadInfo) => void;
  remove: (id: string) => void;
  setBusy: (id: string, action: Action | undefined) => void;
}

const order = (byId: Record<string, WorkloadInfo>) =>
  Object.values(byId)
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
    .map((w) => w.id);

const sameIds = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export const useWorkloads = create<WorkloadsState>((set, get) => ({
  byId: {},
  ids: [],
  errors: [],
  busy: {},
  loaded: false,
  async load() {
    try {
      const r = await client.call('workloads.list', {});
      const byId = Object.fromEntries(r.workloads.map((w) => [w.id, w]));
      set({ byId, ids: order(byId), errors: r.errors, loaded: true });
    } catch (e) {
      notify('error', `Cannot list workloads: ${(e as Error).message}`);
    }
  },
  upsert(w) {
    const prev = get().byId[w.id];
    if (prev && JSON.stringify(prev) === JSON.stringify(w)) return;
    const byId = { ...get().byId, [w.id]: w };
    const ids = order(byId);
    set(sameIds(ids, get().ids) ? { byId } : { byId, ids });
  },
  remove(id) {
    if (!(id in get().byId)) return;
    const { [id]: _gone, ...byId } = get().byId;
    set({ byId, ids: get().ids.filter((x) => x !== id) });
  },
  setBusy(id, action) {
    set({ busy: { ...get().busy, [id]: action } });
  },
}));

/** One workload by id: a component using it re-renders only when that workload changes. */
export const useWorkload = (id: string) => useWorkloads((s) => s.byId[id]);

let started = false;
/** Subscribe to the core's events once for the whole page; state arrives pushed, never polled per row. */
export function startEventFeed(): void {
  if (started) return;
  started = true;
  client.subscribe('events', {}, {
    event: (e) => {
      const s = useWorkloads.getState();
      if (e.type === 'workload') s.upsert(e.info);
      else if (e.type === 'workload-removed') s.remove(e.id);
      else if (e.type === 'notice') notify(e.level, e.message, e.workloadId);
    },
    error: (err) => notify('error', `Event feed failed: ${err.message}`),
  });
}
