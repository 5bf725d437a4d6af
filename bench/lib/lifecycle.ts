import type { NovaClient } from '../../shared/contract/client.js';
import { entry, type Entry } from './report.js';
import { median, sleep } from './measure.js';

export const OPS = ['create', 'start', 'pause', 'resume', 'snapshot', 'stop', 'delete'] as const;
export type Op = (typeof OPS)[number];

/**
 * Timed cycles per path in a full run. The fast ops take 1–10 ms, and one scheduling hiccup
 * of this shared 2-core host (a few ms) moves a median of 10 samples by a tenth: 20 halve that.
 */
export const CYCLES = 20;

/** Times one step of a cycle; steps a path does untimed (no CLI for it, say) just run. */
export type Timer = <T>(op: Op, fn: () => Promise<T>) => Promise<T>;

/** One way of driving an engine through a whole lifecycle: NovaCron's contract, the raw API, the CLI. */
export interface Path {
  name: string;
  kind: 'inproc' | 'ws' | 'raw' | 'cli';
  /** create → start → pause → resume → snapshot → stop → delete on a fresh workload named by i. */
  cycle(i: number, time: Timer): Promise<void>;
}

/**
 * The order of the paths in each round: a balanced Latin square (Williams), so over a
 * whole number of rounds every path runs first equally often and follows every other path
 * equally often. What a cycle leaves behind (the engine's garbage collection after a
 * delete, the watchers' reads of its last events, a CLI process exiting) lands on the next
 * path's create: a plain rotation would keep the same path behind the same one each round.
 * For an odd number of paths the square's rows are followed by their reverses.
 */
export function roundOrders(n: number): number[][] {
  // 0, n-1, 1, n-2, 2, …: the differences between neighbours (mod n) are all different, so
  // the shifts of this row put every path right after every other one exactly once.
  const first: number[] = [];
  for (let i = 0, lo = 0, hi = n - 1; i < n; i++) first.push(i % 2 === 0 ? lo++ : hi--);
  const shifted = (k: number) => first.map((x) => (x + k) % n);
  const rows = Array.from({ length: n }, (_, k) => shifted(k));
  return n % 2 === 0 ? rows : [...rows, ...rows.map((r) => [...r].reverse())];
}

/**
 * A pause between cycles, for the engine's own background work after a delete to end before
 * the next path's create. containerd collects garbage once something is deleted, at most
 * ~2 % of the time (so 50–100 ms after its last collection): a path whose delete answers
 * before that starts leaves the collection to the next create, whichever path's it is, and
 * one whose delete has later steps takes its own in them. The orders below spread who comes
 * after whom, but not who leaves what. Measured without the pause (containerd, 5 creates per
 * pair): NovaCron's create took 4.9 ms after its own cycle and 7–8 ms after the raw or CLI
 * cycle; with it, 5.1–5.9 ms after any.
 */
export const SETTLE_MS = 200;

/**
 * Run every path's cycle `reps` times, the paths taking turns in the orders of
 * roundOrders (so a load spike on this shared machine, or what one path's cycle leaves
 * behind, does not fall on one path only), after one untimed warm-up cycle each. Returns
 * each path's samples per op.
 */
export async function runCycles(paths: Path[], reps: number): Promise<Map<Path, Map<Op, number[]>>> {
  const out = new Map(paths.map((p) => [p, new Map<Op, number[]>()]));
  const untimed: Timer = (_op, fn) => fn();
  const orders = roundOrders(paths.length);
  let n = 0;
  for (const p of paths) await p.cycle(n++, untimed);
  for (let r = 0; r < reps; r++) {
    for (const k of orders[r % orders.length]!) {
      await sleep(SETTLE_MS);
      const p = paths[k]!;
      const samples = out.get(p)!;
      await p.cycle(n++, async (op, fn) => {
        const t0 = process.hrtime.bigint();
        const v = await fn();
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        samples.set(op, [...(samples.get(op) ?? []), ms]);
        return v;
      });
    }
  }
  return out;
}

/**
 * The figure's rows: each contract path against the raw API (target ≤ 1.1×) and the
 * WebSocket path (the UI's, the slower of the two) against the CLI (target ≤ 0.5×).
 */
export function lifecycleEntries(engine: string, results: Map<Path, Map<Op, number[]>>, notes: Partial<Record<Op, string>> = {}): Entry[] {
  const by = (kind: Path['kind']) => [...results].find(([p]) => p.kind === kind);
  const raw = by('raw');
  const cli = by('cli');
  const out: Entry[] = [];
  for (const op of OPS) {
    const med = (r: [Path, Map<Op, number[]>] | undefined) => {
      const xs = r?.[1].get(op);
      return xs?.length ? median(xs) : undefined;
    };
    const note = notes[op];
    for (const kind of ['inproc', 'ws'] as const) {
      const ours = by(kind);
      const a = med(ours);
      const b = med(raw);
      if (a !== undefined && b !== undefined) {
        out.push(entry(`${engine} ${op}: contract (${kind === 'ws' ? 'WebSocket' : 'in-process'}) vs raw API`, 'ms', a, b, raw![0].name, { ratioMax: 1.1 }, note));
      }
    }
    const a = med(by('ws'));
    const c = med(cli);
    if (a !== undefined && c !== undefined) out.push(entry(`${engine} ${op}: contract (WebSocket) vs CLI`, 'ms', a, c, cli![0].name, { ratioMax: 0.5 }, note));
  }
  return out;
}

/** The contract's side of a cycle, the same for every driver but the create spec and the stop timeout. */
export function contractPath(
  name: string,
  kind: 'inproc' | 'ws',
  client: NovaClient,
  spec: (i: number) => Parameters<NovaClient['call']>[1] & { driver: string; name: string },
  opts: { snapshot?: boolean; force?: boolean; afterStart?: () => Promise<void>; afterDelete?: (i: number) => Promise<void> } = {},
): Path {
  return {
    name,
    kind,
    async cycle(i, time) {
      const w = await time('create', () => client.call('workloads.create', spec(i) as Parameters<NovaClient['call']>[1] as never));
      const id = (w as { id: string }).id;
      try {
        await time('start', () => client.call('workloads.start', { id }));
        await opts.afterStart?.();
        await time('pause', () => client.call('workloads.pause', { id }));
        await time('resume', () => client.call('workloads.resume', { id }));
        if (opts.snapshot !== false) await time('snapshot', () => client.call('snapshots.create', { id, name: 's1' }));
        await time('stop', () => client.call('workloads.stop', { id, timeoutSec: 0, force: opts.force ?? false }));
        await time('delete', () => client.call('workloads.delete', { id }));
      } catch (e) {
        await client.call('workloads.delete', { id, force: true }).catch(() => undefined);
        throw e;
      }
      await opts.afterDelete?.(i);
    },
  };
}
