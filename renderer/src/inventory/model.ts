import type { WorkloadInfo } from '../../../shared/model.js';

/**
 * The inventory's pure part: which rows show, in which order, under which group
 * headers. No React, no DOM: the unit tests and the screen use the same functions.
 */
export const SORT_KEYS = ['name', 'driver', 'state', 'cpu', 'memory', 'uptime'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export const GROUPS = ['none', 'driver', 'state'] as const;
export type GroupBy = (typeof GROUPS)[number];

export interface InventoryQuery {
  text: string;
  driver: string;
  state: string;
  sort: SortKey;
  desc: boolean;
  group: GroupBy;
}

export const DEFAULT_QUERY: InventoryQuery = { text: '', driver: '', state: '', sort: 'name', desc: false, group: 'none' };

export type Item = { kind: 'group'; key: string; label: string; count: number } | { kind: 'row'; id: string };

/** The live numbers a sort may use: only rows someone looked at have them. */
export interface Live {
  cpu: number;
  mem: number;
}

const STATE_ORDER = ['running', 'paused', 'creating', 'crashed', 'exited', 'stopped', 'unknown'];

const upSince = (w: WorkloadInfo) => (w.startedAt && (w.state === 'running' || w.state === 'paused') ? Date.parse(w.startedAt) : undefined);

function compare(a: WorkloadInfo, b: WorkloadInfo, key: SortKey, live: (id: string) => Live | undefined): number {
  switch (key) {
    case 'name':
      return a.name.localeCompare(b.name);
    case 'driver':
      return a.driver.localeCompare(b.driver);
    case 'state':
      return STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state);
    case 'cpu':
    case 'memory': {
      const f = key === 'cpu' ? 'cpu' : 'mem';
      return (live(a.id)?.[f] ?? -1) - (live(b.id)?.[f] ?? -1);
    }
    case 'uptime': {
      // Longer up = started earlier; what is not running has no uptime at all.
      const ka = -(upSince(a) ?? Infinity);
      const kb = -(upSince(b) ?? Infinity);
      return ka === kb ? 0 : ka < kb ? -1 : 1;
    }
  }
}

export function matches(w: WorkloadInfo, q: InventoryQuery): boolean {
  if (q.driver && w.driver !== q.driver) return false;
  if (q.state && w.state !== q.state) return false;
  if (!q.text) return true;
  const needle = q.text.toLowerCase();
  return w.name.toLowerCase().includes(needle) || w.summary.toLowerCase().includes(needle) || w.id.toLowerCase().includes(needle) || (w.runtime ?? '').includes(needle);
}

/** Filter, sort (name breaks ties), then group: the list the virtual list draws. */
export function buildItems(ids: readonly string[], byId: Readonly<Record<string, WorkloadInfo>>, q: InventoryQuery, live: (id: string) => Live | undefined = () => undefined): Item[] {
  const rows: WorkloadInfo[] = [];
  for (const id of ids) {
    const w = byId[id];
    if (w && matches(w, q)) rows.push(w);
  }
  const dir = q.desc ? -1 : 1;
  rows.sort((a, b) => dir * compare(a, b, q.sort, live) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  if (q.group === 'none') return rows.map((w) => ({ kind: 'row', id: w.id }));
  const groups = new Map<string, WorkloadInfo[]>();
  for (const w of rows) {
    const k = q.group === 'driver' ? w.driver : w.state;
    const list = groups.get(k);
    if (list) list.push(w);
    else groups.set(k, [w]);
  }
  const keys = [...groups.keys()].sort((a, b) => (q.group === 'state' ? STATE_ORDER.indexOf(a) - STATE_ORDER.indexOf(b) : a.localeCompare(b)));
  const out: Item[] = [];
  for (const k of keys) {
    const list = groups.get(k)!;
    out.push({ kind: 'group', key: k, label: k, count: list.length });
    for (const w of list) out.push({ kind: 'row', id: w.id });
  }
  return out;
}

/** Rows whose numbers are worth watching: those on screen that run. */
export function liveIds(items: readonly Item[], from: number, to: number, byId: Readonly<Record<string, WorkloadInfo>>): string[] {
  const out: string[] = [];
  for (let i = Math.max(0, from); i < Math.min(items.length, to); i++) {
    const it = items[i]!;
    if (it.kind !== 'row') continue;
    const s = byId[it.id]?.state;
    if (s === 'running' || s === 'paused') out.push(it.id);
  }
  return out;
}
