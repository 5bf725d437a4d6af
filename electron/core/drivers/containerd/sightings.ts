import type { Container, Process } from './api/messages.js';
import type { Family, Target } from './context.js';

/**
 * The container record and task this process last read or left, per workload, for calls
 * whose state check the engine makes itself (pause, resume): a sighting says whose the
 * container is (this driver's, by its label) and holds what the answer is built from.
 *
 * Trusted for SEEN_MS only. Within that time a container of ours could only turn into
 * somebody else's by being deleted and made again under the same name outside NovaCron
 * (NovaCron's own deletes and creates take the lock and forget it); containerd names have
 * no incarnation id to tell the two apart, so the window is kept short.
 */
const SEEN_MS = 2_000;

interface Sighting {
  at: number;
  c: Container;
  task: Process | undefined;
}

const byFamily = new WeakMap<Family, Map<string, Sighting>>();
const keyOf = (t: Target) => `${t.namespace}\0${t.id}`;
const of = (f: Family) => {
  let m = byFamily.get(f);
  if (!m) byFamily.set(f, (m = new Map<string, Sighting>()));
  return m;
};

export function see(f: Family, t: Target, c: Container, task: Process | undefined): void {
  const m = of(f);
  // Bounded: a sighting is worth SEEN_MS, so the old ones are dropped as new ones come.
  if (m.size > 1_000) for (const [k, s] of m) if (Date.now() - s.at > SEEN_MS) m.delete(k);
  m.set(keyOf(t), { at: Date.now(), c, task });
}

export function seen(f: Family, t: Target): Sighting | undefined {
  const s = byFamily.get(f)?.get(keyOf(t));
  return s && Date.now() - s.at <= SEEN_MS ? s : undefined;
}

export function forgetSeen(f: Family, t: Target): void {
  byFamily.get(f)?.delete(keyOf(t));
}
