import { useMemo } from 'react';
import { Chart, type ChartSeries } from '../components/Chart.js';
import { bytes, percent, rate } from '../../../shared/format.js';
import { toSeries } from '../metrics-math.js';
import { useSamples } from '../stores/metrics-history.js';
import { useTheme } from '../theme.js';

/**
 * CPU, memory, disk and network over the last ten minutes, one sample a second. The core
 * keeps the history while someone watches (and a while after), so coming back shows the past.
 */
export function MetricsTab({ id, running }: { id: string; running: boolean }) {
  const { samples, error } = useSamples(id, running);
  const s = useMemo(() => toSeries(samples), [samples]);
  const { resolved } = useTheme();
  const source = samples.at(-1)?.source;
  // The four charts differ only in their series and units; the time axis and theme are common.
  const charts: { title: string; testId: string; format: (v: number) => string; max?: number; series: ChartSeries[] }[] = [
    { title: 'CPU', testId: 'chart-cpu', format: percent, max: 100, series: [{ label: 'CPU', values: s.cpu, color: '--accent' }] },
    {
      title: 'Memory',
      testId: 'chart-memory',
      format: bytes,
      series: [{ label: 'used', values: s.mem, color: '--ok' }, ...(s.memLimit.some((v) => v !== null) ? [{ label: 'limit', values: s.memLimit, color: '--muted' }] : [])],
    },
    { title: 'Disk I/O', testId: 'chart-disk', format: rate, series: [{ label: 'read', values: s.diskRead, color: '--accent' }, { label: 'write', values: s.diskWrite, color: '--warn' }] },
    { title: 'Network', testId: 'chart-network', format: rate, series: [{ label: 'in', values: s.netRx, color: '--ok' }, { label: 'out', values: s.netTx, color: '--danger' }] },
  ];
  return (
    <>
      {!running && <div className="banner banner-warning">Not running: the charts show what was kept.</div>}
      {error && <div className="banner banner-error">{error}</div>}
      <p className="muted small" data-testid="metrics-source">
        {samples.length} samples{source ? ` from ${source}` : ''} · CPU is a percentage of one core
      </p>
      <div className="charts">
        {charts.map((c) => (
          <Chart key={c.testId} {...c} t={s.t} theme={resolved} />
        ))}
      </div>
    </>
  );
}
