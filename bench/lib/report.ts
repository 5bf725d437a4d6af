import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * One figure of the report: NovaCron against a baseline measured in the same run. The
 * target is either a bound on the ratio (novacron / baseline) or on NovaCron's own value,
 * as the issue states it; `pass` says whether this run met it.
 */
export interface Entry {
  name: string;
  unit: string;
  novacron: number;
  baseline: number;
  baselineName: string;
  ratio: number;
  target: string;
  pass: boolean;
  note?: string;
  /** The figure (bench/figures/NAME) that measured it. */
  figure?: string;
}

export type Target = { ratioMax: number } | { ratioMin: number } | { max: number } | { min: number };

export function entry(
  name: string,
  unit: string,
  novacron: number,
  baseline: number,
  baselineName: string,
  target: Target,
  note?: string,
): Entry {
  const ratio = baseline === 0 ? Number.POSITIVE_INFINITY : novacron / baseline;
  let pass: boolean;
  let text: string;
  if ('ratioMax' in target) {
    pass = ratio <= target.ratioMax;
    text = `ratio ≤ ${target.ratioMax}`;
  } else if ('ratioMin' in target) {
    pass = ratio >= target.ratioMin;
    text = `ratio ≥ ${target.ratioMin}`;
  } else if ('max' in target) {
    pass = novacron <= target.max;
    text = `≤ ${target.max} ${unit}`;
  } else {
    pass = novacron >= target.min;
    text = `≥ ${target.min} ${unit}`;
  }
  return { name, unit, novacron: round(novacron), baseline: round(baseline), baselineName, ratio: round(ratio), target: text, pass, ...(note ? { note } : {}) };
}

const round = (n: number) => (Number.isFinite(n) ? Math.round(n * 1000) / 1000 : n);

export function printTable(entries: Entry[]): string {
  // A ratio over a zero baseline is stored as null (JSON has no Infinity).
  const fmt = (n: number | null) => (n === null || !Number.isFinite(n) ? '∞' : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));
  const rows = entries.map((e) => [e.name, `${fmt(e.novacron)} ${e.unit}`, `${fmt(e.baseline)} ${e.unit}`, e.baselineName, `${fmt(e.ratio)}×`, e.target, e.pass ? 'pass' : 'MISS']);
  const head = ['figure', 'novacron', 'baseline', 'baseline is', 'ratio', 'target', ''];
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
  const out = [line(head)];
  entries.forEach((e, i) => {
    out.push(line(rows[i]!));
    if (e.note) out.push(`    ${e.note}`);
  });
  return out.join('\n');
}

/** The table as Markdown, for the README's Performance section. */
export function markdownTable(entries: Entry[]): string {
  // A ratio over a zero baseline is stored as null (JSON has no Infinity).
  const fmt = (n: number | null) => (n === null || !Number.isFinite(n) ? '∞' : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));
  const lines = ['| figure | NovaCron | baseline | ratio | target | |', '|---|---|---|---|---|---|'];
  for (const e of entries) lines.push(`| ${e.name} | ${fmt(e.novacron)} ${e.unit} | ${fmt(e.baseline)} ${e.unit} (${e.baselineName}) | ${fmt(e.ratio)}× | ${e.target} | ${e.pass ? 'pass' : '**miss**'} |`);
  return lines.join('\n');
}

export function writeReport(path: string, entries: Entry[], meta: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ ...meta, entries }, null, 2) + '\n');
}
