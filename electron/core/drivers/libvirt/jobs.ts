import { NovaError } from '../../base/errors.js';
import type { OpContext } from '../driver.js';
import type { Lv } from './context.js';
import { D } from './virsh.js';

/** `virsh domjobinfo --rawstats`: "key: value" lines (type, operation, data_processed, data_total…). */
export function parseJobInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    out[line.slice(0, i).trim().toLowerCase().replace(/\s+/g, '_')] = line.slice(i + 1).trim();
  }
  return out;
}

export interface JobProgress {
  processed: number;
  total: number;
  remaining?: number;
}

/** Bytes done of bytes to do: the data counters, else the memory ones (a RAM-only job). */
export function jobProgress(info: Record<string, string>): JobProgress | undefined {
  const n = (k: string) => (info[k] !== undefined && /^\d+$/.test(info[k]) ? Number(info[k]) : undefined);
  const processed = n('data_processed') ?? n('memory_processed');
  const total = n('data_total') ?? n('memory_total');
  if (processed === undefined || total === undefined) return undefined;
  const remaining = n('data_remaining') ?? n('memory_remaining');
  return { processed, total: Math.max(total, processed), ...(remaining !== undefined ? { remaining } : {}) };
}

const POLL_MS = 250;

/**
 * Run a libvirt job (a migration, a snapshot) to its end, reporting its progress from
 * `domjobinfo` every quarter second while the command that started it runs. `abort` is
 * how the job is cancelled (domjobabort for a migration); without one, a cancelled
 * caller stops waiting and libvirt finishes the job by itself.
 */
export async function watchJob<T>(lv: Lv, uuid: string, label: string, ctx: OpContext, running: Promise<T>, abort?: () => Promise<void>): Promise<T> {
  let done = false;
  const finished = running.finally(() => {
    done = true;
  });
  let aborted = false;
  ctx.progress({ label, done: 0, unit: 'bytes' });
  const poll = (async () => {
    while (!done) {
      if (ctx.signal.aborted && !aborted) {
        aborted = true;
        if (!abort) return;
        await abort().catch(() => undefined);
      }
      const info = await lv.virsh.run(['domjobinfo', uuid, '--rawstats'], { timeoutMs: 5_000 }).then(parseJobInfo, () => undefined);
      const p = info && jobProgress(info);
      if (p && !done) ctx.progress({ label: `${label}${p.remaining !== undefined ? `: ${Math.round(p.remaining / 1024)} KiB to go` : ''}`, done: p.processed, total: p.total, unit: 'bytes' });
      await Promise.race([finished.catch(() => undefined), new Promise((r) => setTimeout(r, POLL_MS))]);
    }
  })();
  await Promise.race([finished.catch(() => undefined), poll]);
  if (aborted && !abort && !done) throw new NovaError('CANCELLED', `${D}: ${label}: no longer watched; libvirt finishes the job by itself`, { driver: D });
  try {
    const r = await finished;
    ctx.progress({ label: `${label}: done`, done: 1, total: 1, unit: 'steps' });
    return r;
  } finally {
    await poll.catch(() => undefined);
  }
}
