import { useMemo, useRef, type KeyboardEvent } from 'react';
import { whyNot } from '../../../shared/actions.js';
import { ConsoleView } from '../console/ConsoleView.js';
import { LifecycleButtons } from '../components/LifecycleButtons.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { StateBadge } from '../components/StateBadge.js';
import { go, href, type Tab } from '../router.js';
import { TAB_LABELS, tabsOf } from './tabs.js';
import { useDrivers } from '../stores/drivers.js';
import { useOperations } from '../stores/operations.js';
import { useWorkload } from '../stores/workloads.js';
import { TerminalPane } from '../terminal/TerminalPane.js';
import { client } from '../transport/client.js';
import { EventsTab } from './EventsTab.js';
import { LogsTab } from './LogsTab.js';
import { MetricsTab } from './MetricsTab.js';
import { OverviewTab } from './OverviewTab.js';
import { SnapshotsTab } from './SnapshotsTab.js';


/** The page's WebSocket URL for a console path of the headless server it came from. */
export const sameOrigin = (path: string) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;

export const workloadConsole = (id: string) => async () => {
  const t = await client.call('console.open', { id });
  return { url: t.url ?? sameOrigin(t.path) };
};

/** One workload: header with state and actions, and its tabs. */
export function WorkloadScreen({ id, tab }: { id: string; tab: Tab }) {
  const w = useWorkload(id);
  const caps = useDrivers((s) => (w ? s.byId[w.driver]?.capabilities : undefined));
  const ops = useOperations((s) => s.running);
  const mine = useMemo(() => Object.values(ops).filter((o) => o.workloadId === id), [ops, id]);
  const tabBar = useRef<HTMLDivElement>(null);
  const opener = useMemo(() => workloadConsole(id), [id]);

  if (!w) return <section className="screen"><p className="muted" data-testid="detail-missing">This workload does not exist (any more).</p></section>;
  const tabs = tabsOf(caps);
  const current = tabs.includes(tab) ? tab : 'overview';
  const running = w.state === 'running' || w.state === 'paused';
  const onTabKey = (e: KeyboardEvent) => {
    const at = tabs.indexOf(current);
    const next = e.key === 'ArrowRight' ? tabs[(at + 1) % tabs.length] : e.key === 'ArrowLeft' ? tabs[(at - 1 + tabs.length) % tabs.length] : undefined;
    if (!next) return;
    e.preventDefault();
    go({ screen: 'workload', id, tab: next });
    requestAnimationFrame(() => tabBar.current?.querySelector<HTMLElement>(`[data-testid="tab-${next}"]`)?.focus());
  };
  return (
    <section className="screen" data-testid={`detail-${id}`}>
      <header className="screen-head">
        <div>
          <h1>
            {w.name} <StateBadge state={w.state} testId={`detail-state-${id}`} />
            {w.runtime && (
              <span className="badge muted" title="Accelerator or sandbox runtime" data-testid={`detail-runtime-${id}`}>
                {w.runtime}
              </span>
            )}
          </h1>
          <div className="muted mono">
            {w.id} · {w.driver}
          </div>
        </div>
        <LifecycleButtons w={w} />
      </header>
      {mine.map((o) => (
        <div key={o.op} className="card op-card">
          <strong>{o.label}</strong>
          <ProgressBar progress={o.progress} testId={`op-progress-${o.method}`} />
        </div>
      ))}
      {w.exit && !running && <div className="banner banner-warning" data-testid="detail-exit">{w.exit.reason}</div>}
      <div className="tabs" role="tablist" aria-label="Workload" ref={tabBar} onKeyDown={onTabKey}>
        {tabs.map((t) => (
          <a
            key={t}
            role="tab"
            href={href({ screen: 'workload', id, tab: t })}
            aria-selected={t === current}
            tabIndex={t === current ? 0 : -1}
            className={t === current ? 'active' : ''}
            data-testid={`tab-${t}`}
          >
            {TAB_LABELS[t]}
          </a>
        ))}
      </div>
      <div role="tabpanel" className="tabpanel" data-testid={`panel-${current}`}>
        {current === 'overview' && <OverviewTab w={w} metrics={caps?.metrics.available === true} />}
        {current === 'metrics' && <MetricsTab id={id} running={running} />}
        {current === 'console' && <ConsoleView sessionKey={id} opener={opener} available={running} runKey={w.startedAt} unavailableText={`${w.name} is ${w.state}: start it to see its screen.`} testId={`vnc-${id}`} />}
        {current === 'terminal' && <TerminalPane id={id} available={w.state === 'running'} runKey={w.startedAt} kindLabel="the workload's own TTY: a VM's serial console, a shell in a container" />}
        {current === 'logs' && <LogsTab id={id} />}
        {current === 'snapshots' && <SnapshotsTab w={w} canTake={caps ? whyNot('snapshot', w, caps) : 'loading'} />}
        {current === 'events' && <EventsTab id={id} />}
      </div>
    </section>
  );
}
