import { memo } from 'react';

/** A tiny CPU line: SVG, no library, redrawn only when its row's numbers change. */
export const Sparkline = memo(function Sparkline({ values, width = 80, height = 20, testId }: { values: readonly number[]; width?: number; height?: number; testId?: string }) {
  if (values.length < 2) return <svg width={width} height={height} className="spark" data-testid={testId} aria-hidden="true" />;
  const max = Math.max(100, ...values);
  const step = width / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`).join(' ');
  return (
    <svg width={width} height={height} className="spark" data-testid={testId} data-last={values.at(-1)} aria-hidden="true">
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.25" />
    </svg>
  );
});
