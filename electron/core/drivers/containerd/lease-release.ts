import { readlinkSync } from 'node:fs';
import { isSameProcess, readStatSync } from '../../base/procfs.js';
import type { ContainerdClient } from './api/client.js';
import { isNotFound } from './api/client.js';
import type { Family } from './context.js';

/** NovaCron's leases: this prefix, and the process that took each (see OWNER). */
export const LEASE_PREFIX = 'novacron-';
/** Which process holds a lease: its pid namespace, pid and start ticks (a pid alone is reused). */
export const OWNER = 'novacron.io/owner';
/** A release containerd did not take is asked again after these delays, then left to the sweep. */
const RETRY_MS = [1_000, 5_000];
/** How long a process about to exit waits for its releases to land. */
const SETTLE_MS = 3_000;

let self: string | undefined;
const pidNamespace = () => /\d+/.exec(readlinkSync('/proc/self/ns/pid'))?.[0] ?? '?';

/** This process, as OWNER names it. */
export function ownerOfSelf(): string {
  self ??= `${pidNamespace()}.${process.pid}.${readStatSync(process.pid)?.startTicks ?? 0}`;
  return self;
}

/** Per containerd client: releases on their way (with their retries), and whether leftovers were swept. */
const state = new WeakMap<ContainerdClient, { pending: Set<Promise<void>>; swept: boolean }>();
const stateOf = (c: ContainerdClient) => {
  let s = state.get(c);
  if (!s) state.set(c, (s = { pending: new Set(), swept: false }));
  return s;
};

/**
 * Delete lease id; resolves once containerd answered the first ask, never rejects. A
 * release containerd did not take is asked again a few times in the background (a lease
 * holds content and snapshots from the garbage collector); one still left then is removed
 * by the next NovaCron's sweep once this process has ended, or expires (its gc.expire
 * label). Tracked until it lands, so a process about to exit can wait (settleReleases).
 */
export function releaseLease(f: Family, id: string): Promise<void> {
  const ask = () => f.client.call('leases.Delete', { id }, { timeoutMs: 10_000 }).then(() => true, (e: unknown) => isNotFound(e));
  const { pending } = stateOf(f.client);
  const first = ask();
  const landed = (async () => {
    for (let i = 0; !(await (i === 0 ? first : ask())) && i < RETRY_MS.length; i++) {
      await new Promise((r) => setTimeout(r, RETRY_MS[i]).unref());
    }
  })().finally(() => pending.delete(landed));
  pending.add(landed);
  return first.then(() => undefined);
}

/** Work of an operation that goes on after it answered (holding a lease): a process about to exit waits for it too. */
export function trackAfter(f: Family, work: Promise<unknown>): void {
  const { pending } = stateOf(f.client);
  const p = work.then(
    () => undefined,
    () => undefined,
  );
  pending.add(p);
  void p.finally(() => pending.delete(p));
}

/** Wait (up to SETTLE_MS) for the releases (and trackAfter's work) this process started to land: before it exits (the CLI). */
export async function settleReleases(f: Family): Promise<void> {
  const { pending } = stateOf(f.client);
  const until = Date.now() + SETTLE_MS;
  while (pending.size > 0 && Date.now() < until) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...pending]), new Promise((r) => (timer = setTimeout(r, until - Date.now())))]);
    clearTimeout(timer);
  }
}

/**
 * Once per client, in the background (tracked as a release is): delete the NovaCron leases
 * whose owner has ended (killed mid-operation, or exited before its release landed). A
 * lease of a live process, of another pid namespace (whose processes this one cannot
 * see), or not NovaCron's, is left alone.
 */
export function sweepLeftLeases(f: Family): void {
  const s = stateOf(f.client);
  if (s.swept) return;
  s.swept = true;
  const ns = pidNamespace();
  const p = (async () => {
    const { leases } = await f.client.call('leases.List', {}, { timeoutMs: 10_000 });
    for (const l of leases) {
      const owner = /^(\d+)\.(\d+)\.(\d+)$/.exec(l.labels[OWNER] ?? '');
      if (!l.id.startsWith(LEASE_PREFIX) || !owner || owner[1] !== ns) continue;
      if (await isSameProcess(Number(owner[2]), Number(owner[3]))) continue;
      await releaseLease(f, l.id);
    }
  })()
    .catch(() => undefined)
    .finally(() => s.pending.delete(p));
  s.pending.add(p);
}
