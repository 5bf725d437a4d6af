/**
 * The Prometheus text exposition format (version 0.0.4), with OpenMetrics naming:
 * counters end in `_total`, units are spelled out (`_seconds`, `_bytes`).
 */
export type Labels = Record<string, string>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: Sample[];
}

export interface HistogramFamily {
  name: string;
  help: string;
  type: 'histogram';
  /** Upper bounds in seconds (or the family's unit), ascending; +Inf is implied. */
  buckets: readonly number[];
  series: { labels: Labels; counts: number[]; sum: number; count: number }[];
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

export function render(families: readonly (Family | HistogramFamily)[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    if (f.type === 'histogram') {
      for (const s of f.series) {
        // Buckets are cumulative in the format; we keep them per bucket.
        let acc = 0;
        f.buckets.forEach((le, i) => {
          acc += s.counts[i] ?? 0;
          out.push(`${f.name}_bucket${labelText({ ...s.labels, le: formatValue(le) })} ${acc}`);
        });
        out.push(`${f.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
        out.push(`${f.name}_sum${labelText(s.labels)} ${formatValue(s.sum)}`);
        out.push(`${f.name}_count${labelText(s.labels)} ${s.count}`);
      }
      continue;
    }
    for (const s of f.samples) out.push(`${f.name}${labelText(s.labels)} ${formatValue(s.value)}`);
  }
  return out.join('\n') + '\n';
}
