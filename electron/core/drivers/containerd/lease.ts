import { randomBytes } from 'node:crypto';
import { isAlreadyExists } from './api/client.js';
import { GC, type Family } from './context.js';
import { LEASE_PREFIX, OWNER, ownerOfSelf, releaseLease, sweepLeftLeases, trackAfter } from './lease-release.js';

/** How long a lease outlives a NovaCron that died mid-operation, before containerd drops it. */
const LEASE_TTL_MS = 60 * 60_000;

/**
 * A new lease, named as ours and labelled with this process (a later NovaCron removes it
 * once this process has ended: see lease-release.ts) and an expiry (containerd drops it
 * then, whoever is left to ask). The first lease of a client sweeps up earlier leftovers.
 */
function createLease(f: Family): { id: string; made: Promise<unknown> } {
  sweepLeftLeases(f);
  const id = `${LEASE_PREFIX}${randomBytes(8).toString('hex')}`;
  const labels = { [GC.expire]: new Date(Date.now() + LEASE_TTL_MS).toISOString(), [OWNER]: ownerOfSelf() };
  return { id, made: f.client.call('leases.Create', { id, labels }) };
}

/**
 * Run fn holding a containerd lease: content and snapshots created under it are safe
 * from the garbage collector until something (an image, a container) refers to them.
 */
export async function withLease<T>(f: Family, fn: (lease: string) => Promise<T>): Promise<T> {
  const { id, made } = createLease(f);
  await made;
  try {
    return await fn(id);
  } finally {
    await releaseLease(f, id);
  }
}

/** A lease taken at once, for an operation that has reads to make first and work that may outlast its answer. */
export interface HeldLease {
  id: string;
  /** Settles once containerd has made it. */
  ready: Promise<unknown>;
  /** Let it go once `after` (work past the answer, tracked as a release is) has ended. */
  release(after?: Promise<unknown>): void;
}

/**
 * A lease asked for now, so its round trip overlaps the reads the caller makes meanwhile.
 * Once released it goes without waiting for containerd's reply, as withLease's does not.
 */
export function takeLease(f: Family): HeldLease {
  const { id, made } = createLease(f);
  made.catch(() => undefined); // awaited through ready by whoever needs it
  return {
    id,
    ready: made,
    release(after) {
      const done = Promise.allSettled([made, after]).then(([m]) => (m.status === 'fulfilled' ? releaseLease(f, id) : undefined));
      trackAfter(f, done);
    },
  };
}

const ensured = new Set<string>();

/** NovaCron's namespace is made on first use; containerd answers ALREADY_EXISTS after. */
export async function ensureNamespace(f: Family): Promise<void> {
  const key = `${f.client.address}\0${f.client.namespace}`;
  if (ensured.has(key)) return;
  try {
    await f.client.call('namespaces.Create', { namespace: { name: f.client.namespace, labels: { 'novacron.io/managed': 'true' } } });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  ensured.add(key);
}
