import { randomBytes } from 'node:crypto';
import { isAlreadyExists } from './api/client.js';
import { GC, type Family } from './context.js';

/** How long a lease outlives a NovaCron that died mid-operation, before containerd drops it. */
const LEASE_TTL_MS = 60 * 60_000;

/**
 * Run fn holding a containerd lease: content and snapshots created under it are safe
 * from the garbage collector until something (an image, a container) refers to them.
 * The lease carries an expiry, so a crash leaves nothing behind for long.
 */
export async function withLease<T>(f: Family, fn: (lease: string) => Promise<T>): Promise<T> {
  const id = `novacron-${randomBytes(8).toString('hex')}`;
  await f.client.call('leases.Create', { id, labels: { [GC.expire]: new Date(Date.now() + LEASE_TTL_MS).toISOString() } });
  try {
    return await fn(id);
  } finally {
    await f.client.call('leases.Delete', { id }).catch(() => undefined);
  }
}

/**
 * withLease, with the lease made while `along` runs (reads that need no lease), so the two
 * round trips overlap; fn gets along's answer. The lease is released once fn has answered,
 * without waiting for containerd's reply: what fn made is referenced by then (a container
 * record holds its snapshot), and a release that never arrives (the process ended first)
 * leaves a lease that expires by itself (LEASE_TTL_MS), holding nothing anybody still needs.
 */
export async function withLeaseAlong<A, T>(f: Family, along: Promise<A>, fn: (lease: string, a: A) => Promise<T>): Promise<T> {
  const id = `novacron-${randomBytes(8).toString('hex')}`;
  const [made, got] = await Promise.allSettled([
    f.client.call('leases.Create', { id, labels: { [GC.expire]: new Date(Date.now() + LEASE_TTL_MS).toISOString() } }),
    along,
  ]);
  try {
    if (got.status === 'rejected') throw got.reason;
    if (made.status === 'rejected') throw made.reason;
    return await fn(id, got.value);
  } finally {
    if (made.status === 'fulfilled') void f.client.call('leases.Delete', { id }).catch(() => undefined);
  }
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
