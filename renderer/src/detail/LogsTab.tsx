import { useEffect, useRef, useState } from 'react';
import type { LogLine } from '../../../shared/model.js';
import { client } from '../transport/client.js';

const KEEP = 2000;

/** The workload's output, followed live; a filter narrows what is shown, the stream keeps flowing. */
export function LogsTab({ id }: { id: string }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [filter, setFilter] = useState('');
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    setLines([]);
    setError(undefined);
    return client.subscribe('logs', { id, follow: true, tail: 500 }, {
      event: (l) => setLines((prev) => [...prev.slice(-(KEEP - 1)), l]),
      error: (e) => setError(e.message),
    });
  }, [id]);
  useEffect(() => {
    if (follow) box.current?.scrollTo({ top: box.current.scrollHeight });
  }, [lines, follow]);
  const shown = filter ? lines.filter((l) => l.line.toLowerCase().includes(filter.toLowerCase())) : lines;
  return (
    <div className="card">
      <div className="toolbar">
        <input type="search" placeholder="Filter lines" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Filter log lines" data-testid="logs-filter" />
        <label className="row">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <span className="muted">{shown.length} lines</span>
      </div>
      {error && <div className="banner banner-error">{error}</div>}
      <pre className="logs" ref={box} data-testid="logs" tabIndex={0}>
        {shown.map((l, i) => (
          <div key={i} className={l.stream}>
            {l.line}
          </div>
        ))}
      </pre>
    </div>
  );
}
