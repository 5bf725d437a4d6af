import { mkdir, rm, stat } from 'node:fs/promises';
import { isNodeError } from './errors.js';

/** A takeover guard (or a half-made lock) this old was abandoned by a process that died. */
export const ABANDONED_MS = 5_000;

/**
 * Remove the stale lock at path without racing another process doing the same: a guard
 * dir is made first, and `stillStale` looks at the owner again under it, so a fresh lock
 * is never removed. Rare (an owner died mid-operation), so its cost does not matter.
 */
export async function removeIfStillStale(path: string, stillStale: () => Promise<boolean>): Promise<void> {
  const guard = `${path}.takeover`;
  try {
    await mkdir(guard);
  } catch (e) {
    if (!isNodeError(e, 'EEXIST')) throw e;
    // A takeover is in progress, or its taker died; the latter is cleared after a while.
    const age = await stat(guard).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > ABANDONED_MS) await rm(guard, { recursive: true, force: true });
    await new Promise((r) => setTimeout(r, 20));
    return;
  }
  try {
    if (await stillStale()) await rm(path, { recursive: true, force: true });
  } finally {
    await rm(guard, { recursive: true, force: true });
  }
}
