import { readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { lstat, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NovaError, isNodeError } from './errors.js';
import { isSameProcess, readStatSync } from './procfs.js';

/**
 * A lock any NovaCron process (desktop, CLI, headless server) honours: a symbolic link
 * whose target is its owner (pid, start ticks, since, operation). Making one is a single
 * atomic syscall that fails when it exists, so a lock is never seen without its owner (a
 * kill -9 leaves a whole lock or none), and a short target lives in the inode itself: no
 * data block to allocate and free per operation. A lock whose owner died (kill -9
 * mid-operation) is stale and is taken over; one whose owner lives is a CONFLICT that
 * names who holds it and for what. A directory at the path (an older NovaCron's lock, its
 * owner in owner.json) is honoured the same way.
 */
export interface LockOwner {
  pid: number;
  startTicks: number;
  op: string;
  since: string;
}

export interface Lock {
  release(): Promise<void>;
}

const self = (() => {
  let cached: { pid: number; startTicks: number } | undefined;
  return () => (cached ??= { pid: process.pid, startTicks: readStatSync(process.pid)?.startTicks ?? 0 });
})();

/** A lock dir of an older NovaCron with no owner file yet was being taken; after this long it is abandoned. */
const HALF_MADE_MS = 5_000;

/** pid:startTicks:sinceMs:op — short, so the link stays in its inode. */
const encode = (o: LockOwner) => `${o.pid}:${o.startTicks}:${Date.parse(o.since)}:${o.op}`;

function decode(target: string): LockOwner | undefined {
  const m = /^(\d+):(\d+):(\d+):(.*)$/s.exec(target);
  if (!m) return undefined;
  return { pid: Number(m[1]), startTicks: Number(m[2]), since: new Date(Number(m[3])).toISOString(), op: m[4]! };
}

export async function acquireLock(path: string, op: string, what: string): Promise<Lock> {
  const owner: LockOwner = { ...self(), op, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      // Synchronous: one tiny metadata syscall, where a promise call's trip through libuv's threadpool costs more.
      symlinkSync(encode(owner), path);
    } catch (e) {
      if (!isNodeError(e, 'EEXIST')) throw e;
      const seen = await readOwner(path);
      if (await isStale(path, seen)) {
        await takeOver(path, seen);
        continue;
      }
      const holder = seen ? `${seen.op} (pid ${seen.pid}, since ${seen.since})` : 'another operation';
      throw new NovaError('CONFLICT', `${what} is busy: ${holder} is in progress`);
    }
    let released = false;
    return {
      async release() {
        if (released) return;
        released = true;
        // Ours until we let go: only a dead owner's lock is ever taken over.
        try {
          unlinkSync(path);
        } catch (e) {
          if (!isNodeError(e, 'ENOENT')) throw e;
        }
        return Promise.resolve();
      },
    };
  }
  throw new NovaError('CONFLICT', `${what} is busy: its lock keeps changing hands`);
}

/** Who holds the lock at path (a link's target, or an older NovaCron's lock dir's owner.json); undefined when none can be read. */
export async function lockOwner(path: string): Promise<LockOwner | undefined> {
  try {
    return decode(readlinkSync(path));
  } catch (e) {
    if (!isNodeError(e, 'EINVAL')) return undefined; // no lock
  }
  try {
    return JSON.parse(await readFile(join(path, 'owner.json'), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

const madeDirs = new Set<string>();

/**
 * withLock for a lock named `name` inside `dir`: the dir is made once per process (and
 * again when it vanished since: the lock's mkdir then fails with ENOENT).
 */
export async function withLockIn<T>(dir: string, name: string, op: string, what: string, fn: () => Promise<T>, mode?: number): Promise<T> {
  const take = async () => {
    if (!madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true, ...(mode !== undefined ? { mode } : {}) });
      madeDirs.add(dir);
    }
    return acquireLock(join(dir, name), op, what);
  };
  const lock = await take().catch((e: unknown) => {
    if (!isNodeError(e, 'ENOENT')) throw e;
    madeDirs.delete(dir);
    return take();
  });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** Run fn holding the lock; the lock is released however fn ends. */
export async function withLock<T>(path: string, op: string, what: string, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(path, op, what);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

const readOwner = lockOwner;

async function isStale(path: string, owner: LockOwner | undefined): Promise<boolean> {
  if (owner) return !(await isSameProcess(owner.pid, owner.startTicks));
  try {
    return Date.now() - (await lstat(path)).mtimeMs > HALF_MADE_MS;
  } catch {
    return false; // vanished: the next attempt takes it
  }
}

/**
 * Remove a stale lock without racing another process doing the same: a guard dir is
 * made first, and the owner is re-read under it, so a fresh lock is never removed.
 */
async function takeOver(path: string, seen: LockOwner | undefined): Promise<void> {
  const guard = `${path}.takeover`;
  try {
    await mkdir(guard);
  } catch (e) {
    if (!isNodeError(e, 'EEXIST')) throw e;
    // A takeover is in progress, or its taker died; the latter is cleared after a while.
    const age = await lstat(guard).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > HALF_MADE_MS) await rm(guard, { recursive: true, force: true });
    await new Promise((r) => setTimeout(r, 20));
    return;
  }
  try {
    const now = await readOwner(path);
    const same = now?.pid === seen?.pid && now?.startTicks === seen?.startTicks;
    if (same && (await isStale(path, now))) await rm(path, { recursive: true, force: true });
  } finally {
    await rm(guard, { recursive: true, force: true });
  }
}
