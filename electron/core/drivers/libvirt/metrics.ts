import { driverError } from '../../base/errors.js';
import type { RawSample } from '../driver.js';
import { parseDomstats, type Stats } from './domains.js';
import type { Lv } from './context.js';
import { D } from './virsh.js';

/**
 * How long one bulk reading serves every caller. The metrics service asks each watched
 * workload once a second, all within a few milliseconds of each other: they share one
 * `virsh domstats` for every domain. Short enough that `novacron stats`, which reads
 * twice half a second apart for a CPU rate, gets two readings.
 */
const FRESH_MS = 300;

/** One sample from a domain's `domstats` block: counters as libvirt keeps them. */
export function sampleOf(s: Stats, ts: number): RawSample {
  const n = (k: string) => (s[k] !== undefined ? Number(s[k]) : undefined);
  const sum = (prefix: string, count: number | undefined, key: string) => {
    let total: number | undefined;
    for (let i = 0; i < (count ?? 0); i++) {
      const v = n(`${prefix}.${i}.${key}`);
      if (v !== undefined) total = (total ?? 0) + v;
    }
    return total;
  };
  const blocks = n('block.count');
  const nets = n('net.count');
  const rss = n('balloon.rss');
  const current = n('balloon.current');
  const rd = sum('block', blocks, 'rd.bytes');
  const wr = sum('block', blocks, 'wr.bytes');
  const rx = sum('net', nets, 'rx.bytes');
  const tx = sum('net', nets, 'tx.bytes');
  return {
    ts,
    cpuNs: n('cpu.time') ?? 0,
    // As the kvm driver reports it: what QEMU holds on the host, against the guest's memory.
    memoryBytes: (rss ?? current ?? 0) * 1024,
    ...(current !== undefined ? { memoryLimitBytes: current * 1024 } : {}),
    ...(rd !== undefined ? { diskReadBytes: rd } : {}),
    ...(wr !== undefined ? { diskWriteBytes: wr } : {}),
    ...(rx !== undefined ? { netRxBytes: rx } : {}),
    ...(tx !== undefined ? { netTxBytes: tx } : {}),
    source: `virsh domstats (bulk, every running domain in one call)${rss !== undefined ? '; memory = QEMU RSS, limit = balloon' : ''}`,
  };
}

/** Every running domain's counters from ONE `virsh domstats` call, shared by all callers while fresh. */
export class BulkStats {
  /** How many bulk readings were taken: tests check it is one a second, not one per domain. */
  reads = 0;
  private last: { at: number; stats: Map<string, Stats> } | undefined;
  private inflight: Promise<{ at: number; stats: Map<string, Stats> }> | undefined;

  constructor(private readonly lv: Lv) {}

  private async reading(): Promise<{ at: number; stats: Map<string, Stats> }> {
    if (this.last && Date.now() - this.last.at < FRESH_MS) return this.last;
    this.inflight ??= (async () => {
      try {
        this.reads++;
        const text = await this.lv.virsh.run(['domstats', '--raw', '--state', '--cpu-total', '--balloon', '--block', '--interface', '--list-active'], { timeoutMs: 10_000 });
        this.last = { at: Date.now(), stats: parseDomstats(text) };
        return this.last;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  async sample(local: string): Promise<RawSample> {
    const uuid = this.lv.domains.check(local);
    let name = this.lv.domains.names.get(uuid);
    if (name === undefined) name = (await this.lv.domains.factsOf(uuid)).name;
    const { at, stats } = await this.reading();
    const s = stats.get(name);
    if (s) return sampleOf(s, at);
    // Not running, or renamed since we last looked: ask once for this domain alone.
    const facts = await this.lv.domains.factsOf(uuid, undefined, true);
    const again = facts.name === name ? undefined : (await this.reading()).stats.get(facts.name);
    if (again) return sampleOf(again, at);
    const state = (await this.lv.virsh.run(['domstate', uuid])).trim();
    if (state === 'shut off' || state === 'crashed') return { ts: Date.now(), cpuNs: 0, memoryBytes: 0, source: `virsh domstats (domain ${state})` };
    throw driverError(D, 'INTERNAL', `domstats has no entry for domain '${facts.name}' (${state})`);
  }
}
