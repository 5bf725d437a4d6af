import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { driverError, isNodeError } from '../../base/errors.js';
import { readJsonSync, removeTree, sweepTempFiles, syncDir, writeFileAtomic, writeFileSynced, writeJsonAtomic, type AtomicOptions, type DeferSync } from '../../base/fsx.js';
import { acquireLock, lockOwner } from '../../base/lock.js';
import { isSameProcess } from '../../base/procfs.js';

/** The fields every stored definition has; the rest is the driver's. */
export interface StoredDefinition {
  version: 1;
  id: string;
  name: string;
  createdAt: string;
}

/** A workload's three JSON files as read together. */
export interface StoreSnapshot<D, R, E> {
  def: D;
  run: R;
  exit?: E;
}

const ID_RE = /^[0-9a-f]{12}$/;
export const isLocalId = (s: string) => ID_RE.test(s);

/**
 * A driver's folder for workloads that NovaCron itself owns (processes, QEMU VMs): one
 * directory per workload, named by its id, holding definition.json, state.json and
 * exit.json (each written atomically) and the driver's own files; plus an index of names
 * (so two creates of one name cannot both win) and the locks. Shared so that the
 * crash-safety rules (dot-dir create, trash-dir delete, sweeping) live in one place.
 */
export class WorkloadStore<D extends StoredDefinition, R extends object, E, F extends string> {
  /**
   * What snapshot() last read per workload, keyed by its directory's mtime: every write
   * here is a rename into that directory, which moves the mtime, so an unchanged mtime
   * means unchanged files. Listing 1,000 workloads is then 1,000 stat calls, not 3,000 reads.
   */
  private readonly cache = new Map<string, { mtimeNs: bigint; snap: StoreSnapshot<D, R, E> }>();

  constructor(
    readonly base: string,
    /** For the CONFLICT message of a taken name: which driver, and what it calls a workload. */
    private readonly owner: { driver: string; noun: string },
  ) {}

  async snapshot(id: string): Promise<StoreSnapshot<D, R, E> | undefined> {
    if (!isLocalId(id)) return undefined;
    let mtimeNs: bigint;
    try {
      // Synchronous: one stat of a directory the kernel has cached, for every workload every second while watched.
      mtimeNs = statSync(this.dir(id), { bigint: true }).mtimeNs;
    } catch (e) {
      if (isNodeError(e, 'ENOENT')) {
        this.cache.delete(id);
        return undefined;
      }
      throw e;
    }
    const hit = this.cache.get(id);
    if (hit && hit.mtimeNs === mtimeNs) return hit.snap;
    // Three small files, read synchronously like the stat above: a cold listing reads them for every workload.
    const def = readJsonSync<D>(this.file(id, 'definition.json'));
    if (!def) return undefined;
    let exit: E | undefined;
    try {
      exit = readJsonSync<E>(this.file(id, 'exit.json'));
    } catch {
      exit = undefined; // as exitRecord(): a half-written exit record reads as none
    }
    const run = readJsonSync<R>(this.file(id, 'state.json')) ?? ({} as R);
    const snap: StoreSnapshot<D, R, E> = { def, run, ...(exit ? { exit } : {}) };
    this.cache.set(id, { mtimeNs, snap });
    return snap;
  }

  dir(id: string): string {
    return join(this.base, id);
  }
  file(id: string, name: 'definition.json' | 'state.json' | 'exit.json' | F): string {
    return join(this.base, id, name);
  }
  private lockPath(key: string): string {
    return join(this.base, '.locks', key);
  }
  private nameClaim(name: string): string {
    return join(this.base, '.names', name);
  }

  private ensured = false;

  /**
   * The store's lock and name dirs, made once per process (synchronously: two mkdirs). A
   * lock taken after they vanished fails with ENOENT and makes them again (lockIn).
   */
  async ensure(again = false): Promise<void> {
    if (this.ensured && !again) return;
    mkdirSync(join(this.base, '.locks'), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.base, '.names'), { recursive: true, mode: 0o700 });
    this.ensured = true;
    return Promise.resolve();
  }

  /** Run fn holding the store's lock named key (see base/lock.ts). */
  private async lockIn<T>(key: string, op: string, what: string, fn: () => Promise<T>): Promise<T> {
    await this.ensure();
    const path = this.lockPath(key);
    const lock = await acquireLock(path, op, what).catch(async (e: unknown) => {
      if (!isNodeError(e, 'ENOENT')) throw e;
      await this.ensure(true); // the dirs went away since this process made them
      return acquireLock(path, op, what);
    });
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  async ids(): Promise<string[]> {
    try {
      return (await readdir(this.base)).filter(isLocalId);
    } catch (e) {
      if (isNodeError(e, 'ENOENT')) return [];
      throw e;
    }
  }

  // The small files below are read synchronously: one read of a cached page costs ~30 µs, where a
  // promise read's four trips through libuv's threadpool (open, fstat, read, close) cost ~1 ms on a busy host.
  async definition(id: string): Promise<D | undefined> {
    if (!isLocalId(id)) return undefined;
    return Promise.resolve(readJsonSync<D>(this.file(id, 'definition.json')));
  }

  async runState(id: string): Promise<R> {
    // Every field of a run state is optional, so {} (no state.json yet) is a valid one.
    const path = this.file(id, 'state.json');
    try {
      return Promise.resolve(readJsonSync<R>(path) ?? ({} as R));
    } catch (e) {
      // Empty, not torn: a run state renamed into place before its fsync (writeRunState with syncFile false)
      // that a power loss caught. What it described (the engine process) ended with that power loss.
      if (statSync(path, { throwIfNoEntry: false })?.size === 0) return {} as R;
      throw e;
    }
  }

  async writeRunState(id: string, state: R, opts: AtomicOptions = {}): Promise<void> {
    const path = this.file(id, 'state.json');
    if (opts.syncFile === false && opts.syncDir === false) {
      // Nothing to wait for but the write and the rename: two small syscalls, made synchronously (no threadpool trips).
      // Named as writeFileAtomic names its temp files, so the sweep finds one a kill -9 left.
      const tmp = join(this.dir(id), `.state.json.${randomBytes(6).toString('hex')}.tmp`);
      writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { flag: 'wx', mode: 0o600 });
      try {
        renameSync(tmp, path);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
      return Promise.resolve();
    }
    await writeJsonAtomic(path, state, opts);
  }

  async patchRunState(id: string, patch: Partial<R>): Promise<R> {
    const next = { ...(await this.runState(id)), ...patch };
    await this.writeRunState(id, next);
    return next;
  }

  async exitRecord(id: string): Promise<E | undefined> {
    try {
      return Promise.resolve(readJsonSync<E>(this.file(id, 'exit.json')));
    } catch {
      return undefined;
    }
  }

  async writeExitRecord(id: string, rec: E): Promise<void> {
    await writeJsonAtomic(this.file(id, 'exit.json'), rec);
  }

  /** The id a name is claimed by, if that workload still exists. */
  async idOfName(name: string): Promise<string | undefined> {
    try {
      const id = readFileSync(this.nameClaim(name), 'utf8').trim();
      return (await this.definition(id)) ? id : undefined;
    } catch (e) {
      if (isNodeError(e, 'ENOENT')) return undefined;
      throw e;
    }
  }

  /**
   * Make a workload's directory complete or not at all: build gets the dot directory it
   * is assembled in (to put its own files there) and returns the definition; the whole is
   * renamed into place, and the name claimed, under the name's lock. Nothing reads the dot
   * directory, so its files are written in place and synced together, the directory once;
   * the rename into place is synced too (else a power loss could leave only the dot
   * directory, which the sweep would then remove, disks and all).
   */
  protected async createDir(name: string, origin: string, build: (dir: string, id: string, defer: DeferSync) => Promise<D>): Promise<D> {
    return this.lockIn(`name-${name}`, `create by ${origin}`, `name '${name}'`, async () => {
      const existing = await this.idOfName(name);
      if (existing) {
        const { driver, noun } = this.owner;
        throw driverError(driver, 'CONFLICT', `${noun} named '${name}' already exists (${driver}:${existing})`);
      }
      const id = randomBytes(6).toString('hex');
      const partial = join(this.base, `.partial-${id}`);
      mkdirSync(partial, { mode: 0o700 });
      let full: D;
      // The build first (a disk's copy is the longest step), then, while it waits on the disk, what does not depend
      // on the definition is written and synced. The claim must be in place before the rename: a claim whose
      // directory never appeared is ignored (idOfName), but a directory without its claim would let a second create
      // take the same name. The fsyncs build hands over (defer) are waited for with the definition's.
      const deferred: Promise<void>[] = [];
      const building = build(partial, id, (sync) => {
        sync.catch(() => undefined); // awaited below
        deferred.push(sync);
      });
      building.catch(() => undefined); // awaited below, after the aside has started
      const aside = Promise.all([writeFileSynced(join(partial, 'state.json'), '{}\n'), writeFileAtomic(this.nameClaim(name), id)]);
      aside.catch(() => undefined); // awaited below; a build that fails first must not leave it unhandled
      try {
        full = await building;
        // Every entry of the dot directory is made by now (the state's at the start, the disks' by build, the
        // definition's as writeFileSynced is called), so its fsync goes alongside the files' own.
        await Promise.all([writeFileSynced(join(partial, 'definition.json'), JSON.stringify(full, null, 2) + '\n'), aside, syncDir(partial), ...deferred]);
        renameSync(partial, this.dir(id));
      } catch (e) {
        await Promise.allSettled([aside, ...deferred]);
        await rm(partial, { recursive: true, force: true });
        // The claim written aside goes too (ignored anyway while its directory is missing, but a failed create leaves nothing).
        if (this.claimOf(name) === id) rmSync(this.nameClaim(name), { force: true });
        throw e;
      }
      await syncDir(this.base);
      return full;
    });
  }

  async updateDefinition(def: D): Promise<void> {
    await writeJsonAtomic(this.file(def.id, 'definition.json'), def);
  }

  /** Remove a workload's directory: renamed out of sight first, so a crash never leaves half a definition listed. */
  async remove(def: D): Promise<void> {
    const trash = join(this.base, `.trash-${def.id}`);
    // The metadata steps synchronously (a syscall each); of the trash, a file that may free gigabytes of disk is unlinked on the thread pool (removeTree).
    renameSync(this.dir(def.id), trash);
    await Promise.all([removeTree(trash), this.removeOutside(def)]);
    if (this.claimOf(def.name) === def.id) rmSync(this.nameClaim(def.name), { force: true });
  }

  /** The id a name's claim file holds, whether or not that workload exists; '' when there is none. */
  private claimOf(name: string): string {
    try {
      return readFileSync(this.nameClaim(name), 'utf8').trim();
    } catch {
      return '';
    }
  }

  /** What a driver keeps of a workload outside its directory, removed before the name is freed. */
  protected async removeOutside(_def: D): Promise<void> {}

  /**
   * Leftovers of creates and deletes that a kill -9 interrupted. Only old ones: a
   * younger one may belong to a create another process is doing right now.
   */
  async sweep(olderThanMs = 60_000): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.base);
    } catch {
      return;
    }
    await Promise.all(
      names
        .filter((n) => n.startsWith('.partial-') || n.startsWith('.trash-'))
        .map(async (n) => {
          const path = join(this.base, n);
          const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
          if (age > olderThanMs) await rm(path, { recursive: true, force: true });
        }),
    );
    // Half-written temp files of definitions, states and name claims (the files themselves are whole: they are renamed into place).
    for (const dir of [...names.filter(isLocalId).map((n) => join(this.base, n)), join(this.base, '.names')]) await sweepTempFiles(dir, olderThanMs);
  }

  /** Whether a live process holds the workload's lock (an operation is in progress somewhere). */
  async busy(id: string): Promise<boolean> {
    const owner = await lockOwner(this.lockPath(id));
    return owner !== undefined && (await isSameProcess(owner.pid, owner.startTicks));
  }

  async withLock<T>(id: string, op: string, what: string, fn: () => Promise<T>): Promise<T> {
    return this.lockIn(id, op, what, async () => {
      this.mine.add(id);
      try {
        return await fn();
      } finally {
        this.mine.delete(id);
      }
    });
  }

  /** The workloads whose lock an operation of this process holds right now. */
  private readonly mine = new Set<string>();

  /** Whether an operation of this process holds the workload's lock (busy() says whether any live process does). */
  holding(id: string): boolean {
    return this.mine.has(id);
  }
}
