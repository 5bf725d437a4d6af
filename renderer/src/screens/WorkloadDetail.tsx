import { useEffect, useRef, useState } from 'react';
import type { LogLine, MetricsSample, WorkloadDetail as Detail } from '../../../shared/model.js';
import { ConsolePanel } from '../components/ConsolePanel.js';
import { LifecycleButtons } from '../components/LifecycleButtons.js';
import { TerminalPanel } from '../components/TerminalPanel.js';
import { StateBadge } from '../components/StateBadge.js';
import { useDrivers } from '../stores/drivers.js';
import { useWorkload } from '../stores/workloads.js';
import { client } from '../transport/client.js';
import { bytes } from '../format.js';

/** One workload: its state and actions, configuration, runtime details, live numbers and logs. */
export function WorkloadDetail({ id }: { id: string }) {
  const w = useWorkload(id);
  const caps = useDrivers((s) => (w ? s.byId[w.driver]?.capabilities : undefined));
  const [detail, setDetail] = useState<Detail | undefined>();
  const [error, setError] = useState<string | undefined>();

  // Re-read runtime details whenever the state changes or the workload restarts (a new pid after a start or a migration).
  useEffect(() => {
    let live = true;
    client.call('workloads.inspect', { id }).then(
      (d) => live && (setDetail(d), setError(undefined)),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [id, w?.state, w?.startedAt]);

  if (!w) return <section className="screen"><p className="muted">This workload does not exist (any more).</p></section>;
  const running = w.state === 'running' || w.state === 'paused';
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
            {w.id}
            {w.runtime && (
              <>
                {' · '}
                <span title="sandbox runtime" data-testid={`detail-runtime-${id}`}>
                  {w.runtime}
                </span>
              </>
            )}
          </div>
        </div>
        <LifecycleButtons w={w} />
      </header>
      {w.exit && !running && <div className="banner banner-warning">{w.exit.reason}</div>}
      {error && <div className="banner banner-error">{error}</div>}
      <div className="grid2">
        <div className="card">
          <h2>Configuration</h2>
          <dl className="kv" data-testid="detail-config">
            {detail &&
              Object.entries(detail.config).map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd className="mono">{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
                </div>
              ))}
          </dl>
        </div>
        <div className="card">
          <h2>Runtime</h2>
          <dl className="kv" data-testid="detail-runtime">
            {detail &&
              Object.entries(detail.runtime).map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd className="mono" data-testid={`runtime-${k}`}>
                    {v === null ? '—' : String(v)}
                  </dd>
                </div>
              ))}
          </dl>
        </div>
      </div>
      {caps?.metrics.available && running && <LiveNumbers id={id} />}
      {caps?.console.available && running && <ConsolePanel id={id} />}
      {caps?.terminal.available && w.state === 'running' && <TerminalPanel id={id} />}
      {caps?.logs.available && <Logs id={id} />}
    </section>
  );
}

function LiveNumbers({ id }: { id: string }) {
  const [s, setS] = useState<MetricsSample | undefined>();
  useEffect(() => client.subscribe('metrics', { id }, { event: (batch) => setS(batch.at(-1)) }), [id]);
  return (
    <div className="card">
      <h2>Live</h2>
      <div className="stats" data-testid="live-metrics">
        <div>
          <span className="big">{s ? `${s.cpuPercent.toFixed(1)}%` : '…'}</span> CPU
        </div>
        <div>
          <span className="big">{s ? bytes(s.memoryBytes) : '…'}</span> memory
        </div>
        <div className="muted">{s?.source}</div>
      </div>
    </div>
  );
}

function Logs({ id }: { id: string }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    setLines([]);
    return client.subscribe('logs', { id, follow: true, tail: 200 }, {
      event: (l) => setLines((prev) => [...prev.slice(-999), l]),
    });
  }, [id]);
  useEffect(() => {
    box.current?.scrollTo({ top: box.current.scrollHeight });
  }, [lines]);
  return (
    <div className="card">
      <h2>Logs</h2>
      <pre className="logs" ref={box} data-testid="logs">
        {lines.map((l, i) => (
          <div key={i} className={l.stream}>
            {l.line}
          </div>
        ))}
      </pre>
    </div>
  );
}
