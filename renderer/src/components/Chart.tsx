import { useEffect, useRef } from 'react';
import uPlot, { type AlignedData, type Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** A CSS variable name or colour. */
  color: string;
}

const cssColor = (c: string) => (c.startsWith('--') ? getComputedStyle(document.documentElement).getPropertyValue(c).trim() || '#888' : c);

/**
 * A time chart: owns one uPlot and nothing else. It is made once per set of series,
 * follows its box's width, and takes new data with setData (no rebuild per sample).
 */
export function Chart(props: { title: string; t: number[]; series: ChartSeries[]; format: (v: number) => string; min?: number; max?: number; testId: string; theme: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const { series, t, format, testId } = props;
  const shape = series.map((s) => `${s.label}/${s.color}`).join('|');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axis = { stroke: cssColor('--muted'), grid: { stroke: cssColor('--border'), width: 1 }, ticks: { stroke: cssColor('--border'), width: 1 } };
    const opts: Options = {
      width: Math.max(200, el.clientWidth),
      height: 180,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: (_u, lo, hi) => [Math.min(lo, hi - 60), hi] }, y: { range: (_u, lo, hi) => [props.min ?? Math.min(0, lo), Math.max(props.max ?? 0, hi * 1.1, 1)] } },
      axes: [axis, { ...axis, size: 84, values: (_u, ticks) => ticks.map((v) => format(v)) }],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: cssColor(s.color), width: 1.5, fill: `color-mix(in srgb, ${cssColor(s.color)} 12%, transparent)`, value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)) }))],
    };
    const u = new uPlot(opts, [[], ...series.map(() => [])] as AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: 180 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = undefined;
    };
    // Rebuilt only when the series or the theme change; data goes through setData below.
  }, [shape, props.theme]);

  useEffect(() => {
    plot.current?.setData([t, ...series.map((s) => s.values)] as AlignedData);
  });

  const lastOf = (s: ChartSeries) => [...s.values].reverse().find((v) => v !== null);
  const last = series[0] ? lastOf(series[0]) : undefined;
  return (
    <div className="card chart" data-testid={testId} data-points={t.length} data-last={last ?? ''} data-max={Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)))}>
      <div className="card-head">
        <h2>{props.title}</h2>
        <span className="muted">{series.map((s) => `${s.label} ${(() => { const v = lastOf(s); return v === undefined || v === null ? '—' : format(v); })()}`).join(' · ')}</span>
      </div>
      <div ref={box} className="chart-box" />
    </div>
  );
}
