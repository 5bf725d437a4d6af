import { useEffect, useState } from 'react';
import type { WorkloadDetail, WorkloadInfo } from '../../../shared/model.js';
import { bytes, duration, percent, time } from '../../../shared/format.js';
import { useNow } from '../stores/clock.js';
import { useSamples } from '../stores/metrics-history.js';
import { client } from '../transport/client.js';

/** Configuration, runtime details (pid, sockets, accelerator…) and the numbers of the moment. */
export function OverviewTab({ w, metrics }: { w: WorkloadInfo; metrics: boolean }) {
  const [detail, setDetail] = useState<WorkloadDetail | undefined>();
  const [error, setError] = useState<string | undefined>();
  // Re-read runtime details whenever the state changes or the workload restarts (a new pid after a start or a migration).
  useEffect(() => {
    let live = true;
    client.call('workloads.inspect', { id: w.id }).then(
      (d) => {
        if (!live) return;
        setDetail(d);
        setError(undefined);
      },
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [w.id, w.state, w.startedAt]);
  const running = w.state === 'running' || w.state === 'paused';
  return (
    <>
      {error && <div className="banner banner-error">{error}</div>}
      <div className="grid3">
        <div className="card">
          <h2>State</h2>
          <dl className="kv">
            <Kv k="state" v={w.state} />
            <Kv k="created" v={time(w.createdAt)} />
            {running && w.startedAt && <Kv k="up for" v={<Since iso={w.startedAt} />} />}
            {w.exit && <Kv k="last exit" v={w.exit.reason} />}
            <Kv k="summary" v={w.summary} mono />
          </dl>
        </div>
        {metrics && running ? <LiveNumbers id={w.id} /> : <div className="card muted">Live numbers appear while it runs.</div>}
      </div>
      <div className="grid2">
        <div className="card">
          <h2>Configuration</h2>
          <dl className="kv" data-testid="detail-config">
            {detail && Object.entries(detail.config).map(([k, v]) => <Kv key={k} k={k} v={typeof v === 'string' ? v : JSON.stringify(v)} mono />)}
          </dl>
        </div>
        <div className="card">
          <h2>Runtime</h2>
          <dl className="kv" data-testid="detail-runtime">
            {detail && Object.entries(detail.runtime).map(([k, v]) => <Kv key={k} k={k} v={v === null ? '—' : String(v)} mono testId={`runtime-${k}`} />)}
          </dl>
        </div>
      </div>
    </>
  );
}

function Kv({ k, v, mono, testId }: { k: string; v: React.ReactNode; mono?: boolean; testId?: string }) {
  return (
    <div>
      <dt>{k}</dt>
      <dd className={mono ? 'mono' : ''} data-testid={testId}>
        {v}
      </dd>
    </div>
  );
}

function Since({ iso }: { iso: string }) {
  return <>{duration(useNow() - Date.parse(iso))}</>;
}

function LiveNumbers({ id }: { id: string }) {
  const { samples, error } = useSamples(id, true);
  const s = samples.at(-1);
  return (
    <div className="card">
      <h2>Live</h2>
      {error && <div className="banner banner-error">{error}</div>}
      <div className="stats" data-testid="live-metrics">
        <div>
          <span className="big">{s ? percent(s.cpuPercent) : '…'}</span> CPU
        </div>
        <div>
          <span className="big">{s ? bytes(s.memoryBytes) : '…'}</span> memory{s?.memoryLimitBytes ? ` of ${bytes(s.memoryLimitBytes)}` : ''}
        </div>
        <div className="muted">{s?.source}</div>
      </div>
    </div>
  );
}
