import { useCallback, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { DRIVER_IDS } from '../../../shared/ids.js';
import { WORKLOAD_STATES } from '../../../shared/model.js';
import { VirtualList } from '../components/VirtualList.js';
import { href } from '../router.js';
import { useDrivers } from '../stores/drivers.js';
import { useRowMetrics, useWatchRows } from '../stores/row-metrics.js';
import { useWorkloads } from '../stores/workloads.js';
import { buildItems, DEFAULT_QUERY, GROUPS, liveIds, SORT_KEYS, type InventoryQuery, type SortKey } from './model.js';
import { ROW_HEIGHT, Row } from './Row.js';
import { Options } from '../components/Options.js';

const HEADERS: { key: SortKey | undefined; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'driver', label: 'Driver' },
  { key: 'state', label: 'State' },
  { key: 'cpu', label: 'CPU' },
  { key: 'memory', label: 'Memory' },
  { key: 'uptime', label: 'Uptime' },
  { key: undefined, label: 'Actions' },
];

/** The query lives in the session, so coming back from a workload finds the list as it was left. */
let remembered: InventoryQuery = DEFAULT_QUERY;

/**
 * Every workload of every driver in one virtualised list: searchable, filtered and
 * grouped by driver or state, sortable by any column; CPU, memory and a sparkline live
 * for the rows on screen only.
 */
export function InventoryScreen() {
  const ids = useWorkloads((s) => s.ids);
  const byId = useWorkloads((s) => s.byId);
  const errors = useWorkloads((s) => s.errors);
  const loaded = useWorkloads((s) => s.loaded);
  const drivers = useDrivers((s) => s.list);
  const [q, setQuery] = useState<InventoryQuery>(remembered);
  const setQ = (patch: Partial<InventoryQuery>) => setQuery((cur) => (remembered = { ...cur, ...patch }));
  // Sorting by a live number follows the numbers; otherwise the numbers never reorder the list.
  const liveSort = q.sort === 'cpu' || q.sort === 'memory';
  const metrics = useRowMetrics((s) => (liveSort ? s.byId : undefined));
  const items = useMemo(() => buildItems(ids, byId, q, metrics ? (id) => metrics[id] : undefined), [ids, byId, q, metrics]);

  const [range, setRange] = useState<[number, number]>([0, 0]);
  const onRange = useCallback((from: number, to: number) => setRange([from, to]), []);
  useWatchRows(useMemo(() => liveIds(items, range[0], range[1], byId), [items, range, byId]));

  const [activeId, setActiveId] = useState<string | undefined>();
  const activeIndex = activeId ? items.findIndex((it) => it.kind === 'row' && it.id === activeId) : -1;
  const listBox = useRef<HTMLDivElement>(null);
  const moveTo = (index: number) => {
    const step = index > activeIndex ? 1 : -1;
    let i = Math.max(0, Math.min(items.length - 1, index));
    while (items[i]?.kind === 'group' && i + step >= 0 && i + step < items.length) i += step;
    const it = items[i];
    if (it?.kind !== 'row') return;
    setActiveId(it.id);
    // Focus once the row is rendered (it may just have scrolled in).
    requestAnimationFrame(() => listBox.current?.querySelector<HTMLElement>(`[data-testid="workload-link-${CSS.escape(it.id)}"]`)?.focus());
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const page = Math.max(1, Math.floor((listBox.current?.clientHeight ?? 400) / ROW_HEIGHT) - 1);
    const to = { ArrowDown: activeIndex + 1, ArrowUp: activeIndex - 1, PageDown: activeIndex + page, PageUp: activeIndex - page, Home: 0, End: items.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    moveTo(to);
  };

  const creatable = drivers.filter((d) => d.capabilities.create.available);
  const sortBy = (key: SortKey) => setQ(q.sort === key ? { desc: !q.desc } : { sort: key, desc: key === 'cpu' || key === 'memory' || key === 'uptime' });
  const shownRows = items.filter((i) => i.kind === 'row').length;
  // Without a keyboard position yet, the first row is the one Tab reaches.
  const tabRow = activeIndex >= 0 ? activeIndex : items.findIndex((it) => it.kind === 'row');
  return (
    <section className="screen inventory">
      <header className="screen-head">
        <h1>
          Workloads <span className="muted count" data-testid="workload-count">{shownRows === ids.length ? ids.length : `${shownRows} of ${ids.length}`}</span>
        </h1>
        <div className="row">
          {creatable.map((d) => (
            <a key={d.id} className="button primary" href={href({ screen: 'create', driver: d.id })} data-testid={`create-${d.id}`}>
              New {d.name.toLowerCase()}
            </a>
          ))}
        </div>
      </header>
      {errors.map((e) => (
        <div key={e.driver} className="banner banner-error" data-testid={`list-error-${e.driver}`}>
          {e.message}
        </div>
      ))}
      <div className="filters row" role="search">
        <input type="search" placeholder="Search name, command, image, id" value={q.text} onChange={(e) => setQ({ text: e.target.value })} aria-label="Search workloads" data-testid="workload-search" id="workload-search" />
        <select value={q.driver} onChange={(e) => setQ({ driver: e.target.value })} aria-label="Filter by driver" data-testid="filter-driver">
          <option value="">All drivers</option>
          <Options values={DRIVER_IDS} />
        </select>
        <select value={q.state} onChange={(e) => setQ({ state: e.target.value })} aria-label="Filter by state" data-testid="filter-state">
          <option value="">Any state</option>
          <Options values={WORKLOAD_STATES} />
        </select>
        <label className="row">
          Group by
          <select value={q.group} onChange={(e) => setQ({ group: e.target.value as InventoryQuery['group'] })} data-testid="group-by">
            <Options values={GROUPS} />
          </select>
        </label>
        <label className="row">
          Sort
          <select value={q.sort} onChange={(e) => setQ({ sort: e.target.value as SortKey })} data-testid="sort-by">
            <Options values={SORT_KEYS} />
          </select>
        </label>
      </div>
      <div className="vtable" role="table" aria-label="Workloads" aria-rowcount={shownRows} data-testid="workload-list" ref={listBox}>
        <div className="vhead" role="row">
          {HEADERS.map((h) =>
            h.key ? (
              <button
                key={h.label}
                role="columnheader"
                className="link-head"
                aria-sort={q.sort === h.key ? (q.desc ? 'descending' : 'ascending') : 'none'}
                onClick={() => sortBy(h.key!)}
                data-testid={`sort-${h.key}`}
                title={h.key === 'cpu' || h.key === 'memory' ? 'Live numbers are kept for rows that were on screen' : undefined}
              >
                {h.label}
                {q.sort === h.key ? (q.desc ? ' ▾' : ' ▴') : ''}
              </button>
            ) : (
              <span key={h.label} role="columnheader">
                {h.label}
              </span>
            ),
          )}
        </div>
        <VirtualList
          count={items.length}
          rowHeight={ROW_HEIGHT}
          onRange={onRange}
          activeIndex={activeIndex}
          onKeyDown={onKeyDown}
          testId="workload-rows"
          label="Workload rows"
          render={(i, top) => {
            const it = items[i]!;
            if (it.kind === 'group') {
              return (
                <div key={`g-${it.key}`} className="vgroup" role="row" style={{ transform: `translateY(${top}px)`, height: ROW_HEIGHT }} data-testid={`group-${it.key}`}>
                  <span role="cell">
                    {it.label} <span className="muted">({it.count})</span>
                  </span>
                </div>
              );
            }
            return <Row key={it.id} id={it.id} top={top} active={i === tabRow} onFocusRow={setActiveId} />;
          }}
        />
      </div>
      {loaded && shownRows === 0 && <p className="muted empty">{ids.length === 0 ? 'No workloads yet.' : 'Nothing matches the filters.'}</p>}
      <p className="muted small">
        ↑/↓ move, Enter opens, <kbd>/</kbd> searches, <kbd>Ctrl</kbd>+<kbd>K</kbd> for commands. <a href={href({ screen: 'vnc' })}>VNC connections</a> for machines NovaCron does not run.
      </p>
    </section>
  );
}


