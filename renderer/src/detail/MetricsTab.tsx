import { useMemo } from 'react';
import { Chart } from '../components/Chart.js';
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
  return (
    <>
      {!running && <div className="banner banner-warning">Not running: the charts show what was kept.</div>}
      {error && <div className="banner banner-error">{error}</div>}
      <p className="muted small" data-testid="metrics-source">
        {samples.length} samples{source ? ` from ${source}` : ''} · CPU is a percentage of one core
      </p>
      <div className="charts">
        <Chart title="CPU" t={s.t} series={[{ label: 'CPU', values: s.cpu, color: '--accent' }]} format={percent} max={100} testId="chart-cpu" theme={resolved} />
        <Chart
          title="Memory"
          t={s.t}
          series={[
            { label: 'used', values: s.mem, color: '--ok' },
            ...(s.memLimit.some((v) => v !== null) ? [{ label: 'limit', values: s.memLimit, color: '--muted' }] : []),
          ]}
          format={bytes}
          testId="chart-memory"
          theme={resolved}
        />
        <Chart
          title="Disk I/O"
          t={s.t}
          series={[
            { label: 'read', values: s.diskRead, color: '--accent' },
            { label: 'write', values: s.diskWrite, color: '--warn' },
          ]}
          format={rate}
          testId="chart-disk"
          theme={resolved}
        />
        <Chart
          title="Network"
          t={s.t}
          series={[
            { label: 'in', values: s.netRx, color: '--ok' },
            { label: 'out', values: s.netTx, color: '--danger' },
          ]}
          format={rate}
          testId="chart-network"
          theme={resolved}
        />
      </div>
    </>
  );
}
