import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import type { Driver } from '../../electron/core/drivers/driver.js';
import type { DriverManager } from '../../electron/core/drivers/manager.js';
import { cpuPercent, GATHER_MS, MetricsService } from '../../electron/core/services/metrics.js';
import { parseStat } from '../../electron/core/base/procfs.js';

describe('cpu percent from two cumulative samples', () => {
  it('is 100 for one core busy over the interval', () => {
    expect(cpuPercent({ ts: 0, cpuNs: 0, memoryBytes: 0 }, { ts: 1000, cpuNs: 1e9, memoryBytes: 0 })).toBe(100);
  });
  it('is 0 without a previous sample, or when a counter went backwards (a restart)', () => {
    expect(cpuPercent(undefined, { ts: 1000, cpuNs: 5e9, memoryBytes: 0 })).toBe(0);
    expect(cpuPercent({ ts: 0, cpuNs: 9e9, memoryBytes: 0 }, { ts: 1000, cpuNs: 1e9, memoryBytes: 0 })).toBe(0);
  });
  it("keeps a driver's own rate", () => {
    expect(cpuPercent(undefined, { ts: 1, cpuPercent: 42, memoryBytes: 0 })).toBe(42);
  });
});

describe('/proc/<pid>/stat', () => {
  it('parses a comm holding spaces and parentheses', () => {
    const line = '4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 123456 1000000 250 18446744073709551615';
    const st = parseStat(line);
    expect(st).toMatchObject({ pid: 4242, comm: 'my (odd) prog', state: 'S', ppid: 1, pgrp: 4242, utimeTicks: 7, stimeTicks: 3, startTicks: 123456, rssPages: 250 });
  });
  it("reads every live process's fields as splitting the line would", () => {
    let compared = 0;
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      let line: string;
      try {
        line = readFileSync(`/proc/${e}/stat`, 'latin1');
      } catch {
        continue; // ended meanwhile
      }
      const rest = line.slice(line.lastIndexOf(')') + 2).split(' ');
      const f = (i: number) => Number(rest[i]);
      expect(parseStat(line)).toEqual({
        pid: Number(e),
        comm: line.slice(line.indexOf('(') + 1, line.lastIndexOf(')')),
        state: rest[0],
        ppid: f(1),
        pgrp: f(2),
        utimeTicks: f(11),
        stimeTicks: f(12),
        startTicks: f(19),
        rssPages: f(21),
      });
      compared++;
    }
    expect(compared).toBeGreaterThan(10);
  });
});

describe('the metrics service', () => {
  it("asks the manager for a watched workload's driver once, not every tick (require re-runs detection: docker's /info)", async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
    try {
      let cpuNs = 0;
      const reads: string[] = [];
      const driver = {
        id: 'process',
        metrics: async (local: string) => {
          reads.push(local);
          return { ts: Date.now(), cpuNs: (cpuNs += 5e8), memoryBytes: 1 };
        },
      } as unknown as Driver;
      let required = 0;
      const manager = {
        require: async () => {
          required++;
          return driver;
        },
      } as unknown as DriverManager;
      const svc = new MetricsService(manager);
      const samples: number[] = [];
      const sub = svc.watch('process:aaaaaaaaaaaa', (batch) => samples.push(...batch.map((s) => s.cpuPercent)));
      for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(1000);
      sub.dispose();
      svc.dispose();
      expect(reads.length).toBeGreaterThanOrEqual(6);
      expect(reads.every((l) => l === 'aaaaaaaaaaaa')).toBe(true);
      expect(samples.length).toBe(reads.length - 1); // the first reading only primes the CPU delta
      expect(samples.at(-1)).toBe(50);
      expect(required).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("gives a tick's samples to their watchers in one turn of the event loop (one WebSocket frame), the slow ones too, but never waits past GATHER_MS", async () => {
    // Reading delays per workload: files read at once, a VM's QMP round trip, and one stuck far longer.
    const delays: Record<string, number> = { aaaaaaaaaaaa: 0, bbbbbbbbbbbb: 40, cccccccccccc: 1500 };
    let cpuNs = 0;
    const readAt = new Map<string, number>();
    const driver = {
      id: 'process',
      metrics: async (local: string) => {
        readAt.set(local, Date.now());
        await new Promise((r) => setTimeout(r, delays[local]));
        return { ts: Date.now(), cpuNs: (cpuNs += 1e8), memoryBytes: 1 };
      },
    } as unknown as Driver;
    const svc = new MetricsService({ require: async () => driver } as unknown as DriverManager);
    // The turn a delivery happens in: a counter moved on by every turn of the event loop.
    let turn = 0;
    let spinning = true;
    const spin = () => {
      turn++;
      if (spinning) setImmediate(spin);
    };
    spin();
    const got: { id: string; turn: number; at: number }[] = [];
    const subs = Object.keys(delays).map((l) => svc.watch(`process:${l}`, () => got.push({ id: l, turn, at: Date.now() })));
    await new Promise((r) => setTimeout(r, 4300));
    spinning = false;
    subs.forEach((s) => s.dispose());
    svc.dispose();
    const fast = got.filter((g) => g.id === 'aaaaaaaaaaaa');
    const qmp = got.filter((g) => g.id === 'bbbbbbbbbbbb');
    expect(fast.length).toBeGreaterThanOrEqual(2);
    // The 40 ms one arrives in the very turn the instant one does, every tick.
    expect(qmp.map((g) => g.turn)).toEqual(fast.slice(0, qmp.length).map((g) => g.turn));
    // The stuck one does not hold the others back beyond the gathering time.
    for (const g of fast) expect(g.at - (readAt.get('aaaaaaaaaaaa') ?? 0)).toBeLessThan(GATHER_MS + 1000);
    const lastFast = fast.at(-1)!;
    expect(lastFast.at - readAt.get('aaaaaaaaaaaa')!).toBeLessThanOrEqual(GATHER_MS + 100);
    expect(got.some((g) => g.id === 'cccccccccccc')).toBe(true);
  }, 10_000);
});
