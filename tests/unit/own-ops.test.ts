import { describe, expect, it } from 'vitest';
import { EventChains, OwnOps } from '../../electron/core/drivers/common/own-ops.js';

const tick = () => new Promise((r) => setImmediate(r));
/** Longer than the grace after which an operation of ours counts as ended (own-ops.ts). */
const pastGrace = () => new Promise((r) => setTimeout(r, 60));

/** An operation of ours on `key`, tracked, that ends when told. */
function running(ops: OwnOps, key: string): { op: Promise<void>; finish: () => void } {
  let finish!: () => void;
  const op = ops.track(key, new Promise<void>((r) => (finish = r)));
  return { op, finish };
}

/** An event of `key` whose handler reads (records `label`) when it should. */
const readOn = (chains: EventChains, ops: OwnOps, key: string, reads: string[], label: string) =>
  chains.push(key, () => ops.busy(key), async (shouldRead) => {
    if (await shouldRead()) reads.push(label);
  });

describe('own operations and the event chains the watchers read through', () => {
  it("holds a workload's events while this process's operation on it runs, then reads once, for the newest", async () => {
    const ops = new OwnOps();
    const chains = new EventChains();
    const { op, finish } = running(ops, 'a');
    const reads: string[] = [];
    for (const ev of ['kill', 'die', 'stop']) readOn(chains, ops, 'a', reads, ev);
    // Another workload's event is not held behind them.
    readOn(chains, ops, 'b', reads, 'b:start');
    await tick();
    expect(reads).toEqual(['b:start']);
    finish();
    await op;
    await tick();
    expect(ops.busy('a')).toBeDefined(); // ended a while later: a next command may come meanwhile
    expect(reads).toEqual(['b:start']);
    await pastGrace();
    expect(reads).toEqual(['b:start', 'stop']);
    expect(ops.busy('a')).toBeUndefined();
  });

  it('holds them through the next operation of ours on the workload when it began before they were read', async () => {
    const ops = new OwnOps();
    const chains = new EventChains();
    const stop = running(ops, 'a');
    const reads: string[] = [];
    readOn(chains, ops, 'a', reads, 'exit');
    stop.finish();
    await stop.op;
    // The next command comes a little after the answer, before the stop counts as ended.
    await new Promise((r) => setTimeout(r, 5));
    const del = running(ops, 'a');
    await pastGrace();
    expect(reads).toEqual([]);
    del.finish();
    await del.op;
    await pastGrace();
    expect(reads).toEqual(['exit']);
  });

  it("keeps one workload's events in order when none of ours runs", async () => {
    const chains = new EventChains();
    const seen: number[] = [];
    chains.push('a', () => undefined, async () => {
      await new Promise((r) => setTimeout(r, 20));
      seen.push(1);
    });
    chains.push('a', () => undefined, async (shouldRead) => {
      if (await shouldRead()) seen.push(2);
    });
    await new Promise((r) => setTimeout(r, 60));
    expect(seen).toEqual([1, 2]);
  });

  it('goes on after a handler fails, and a failed operation ends like any other', async () => {
    const ops = new OwnOps();
    const chains = new EventChains();
    const op = ops.track('a', Promise.reject(new Error('refused')));
    await expect(op).rejects.toThrow('refused');
    const seen: string[] = [];
    chains.push('a', () => ops.busy('a'), async () => {
      throw new Error('inspect failed');
    });
    chains.push('a', () => undefined, async (shouldRead) => {
      if (await shouldRead()) seen.push('read');
    });
    await pastGrace();
    expect(seen).toEqual(['read']);
    expect(ops.busy('a')).toBeUndefined();
  });
});
