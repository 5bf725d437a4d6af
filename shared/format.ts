/**
 * Numbers for humans, the same in the CLI and the window. `missing` is what an unknown
 * value shows: the window uses an em dash, the CLI a plain '-' that survives any terminal.
 */
const MISSING = '—';

/** Binary units; a whole number of bytes below 1 KiB shows without decimals. */
export function bytes(n: number | undefined, missing = MISSING): string {
  if (n === undefined) return missing;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 && Number.isInteger(v) ? 0 : 1)} ${units[u]}`;
}

export const rate = (n: number | undefined) => (n === undefined ? MISSING : `${bytes(n)}/s`);

export const percent = (n: number | undefined) => (n === undefined ? MISSING : `${n < 10 ? n.toFixed(1) : Math.round(n)}%`);

/** 3d 4h, 2h 5m, 4m 10s, 12s: two units at most. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/** A moment in the reader's own locale. */
export const time = (iso: string | undefined) => {
  if (!iso) return MISSING;
  const d = new Date(iso);
  return `${d.toLocaleDateString()} ${d.toLocaleTimeString()}`;
};
