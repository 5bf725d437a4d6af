import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { ExitInfo } from '../../../../shared/model.js';
import { driverError, isNodeError } from '../../base/errors.js';
import { readJson, sweepTempFiles, writeFileAtomic, writeJsonAtomic } from '../../base/fsx.js';
import { withLock } from '../../base/lock.js';

/** What the admin asked for. Written once at create; scale rewrites the limits. */
export interface ProcessDefinition {
  version: 1;
  id: string;
  name: string;
  /** Absolute path, resolved at create so a later PATH change cannot swap the program. */
  cmd: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  memoryMB?: number;
  cpuPercent?: number;
  createdAt: string;
}

/** What happened when it last ran. The process's identity is pid + start ticks. */
export interface ProcessRunState {
  pid?: number;
  startTicks?: number;
  startedAt?: string;
  stoppedAt?: string;
  /** Set before we signal it, so its death is not mistaken for a crash. */
  stoppedByUs?: boolean;
  /**
   * Written before the program is spawned: a NovaCron killed between the spawn and
   * recording the pid leaves a process only this nonce (in its environment) identifies.
   */
  spawning?: { at: string; nonce: string };
}

/** Written by the NovaCron process that spawned it, if that one is still alive when it ends. */
export interface ProcessExitRecord extends ExitInfo {
  pid: number;
  startTicks: number;
}

const ID_RE = /^[0-9a-f]{12}$/;
export const isLocalId = (s: string) => ID_RE.test(s);

/**
 * The process driver's folder: one directory per workload, named by its id, plus an
 * index of names (so two creates of one name cannot both win) and the locks.
 */
export interface ProcessSnapshot {
  def: ProcessDefinition;
  run: ProcessRunState;
  exit?: ProcessExitRecord;
}

export class ProcessStore {
  /**
   * What list() last read per workload, keyed by its directory's mtime: every write
   * here is a rename into that directory, which moves the mtime, so an unchanged mtime
   * means unchanged files. Listing 1,000 workloads is then 1,000 stat calls, not 3,000 reads.
   */
  private readonly cache = new Map<string, { mtimeNs: bigint; snap: ProcessSnapshot }>();

  constructor(readonly base: string) {}

  async snapshot(id: string): Promise<ProcessSnapshot | undefined> {
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
    const def = await this.definition(id);
    if (!def) return undefined;
    const exit = await this.exitRecord(id);
    const snap: ProcessSnapshot = { def, run: await this.runState(id), ...(exit ? { exit } : {}) };
    this.cache.set(id, { mtimeNs, snap });
    return snap;
  }

  dir(id: string): string {
    return join(this.base, id);
  }
  file(id: string, name: 'definition.json' | 'state.json' | 'exit.json' | 'stdout.log' | 'stderr.log'): string {
    return join(this.base, id, name);
  }
  private lockPath(key: string): string {
    return join(this.base, '.locks', key);
  }
  private nameClaim(name: string): string {
    return join(this.base, '.names', name);
  }

  async ensure(): Promise<void> {
    await mkdir(join(this.base, '.locks'), { recursive: true, mode: 0o700 });
    await mkdir(join(this.base, '.names'), { recursive: true, mode: 0o700 });
  }

  async ids(): Promise<string[]> {
    try {
      return (await readdir(this.base)).filter(isLocalId);
    } catch (e) {
      if (isNodeError(e, 'ENOENT')) return [];
      throw e;
    }
  }

  async definition(id: string): Promise<ProcessDefinition | undefined> {
    if (!isLocalId(id)) return undefined;
    return readJson<ProcessDefinition>(this.file(id, 'definition.json'));
  }

  async runState(id: string): Promise<ProcessRunState> {
    return (await readJson<ProcessRunState>(this.file(id, 'state.json'))) ?? {};
  }

  async writeRunState(id: string, state: ProcessRunState): Promise<void> {
    await writeJsonAtomic(this.file(id, 'state.json'), state);
  }

  async exitRecord(id: string): Promise<ProcessExitRecord | undefined> {
    return readJson<ProcessExitRecord>(this.file(id, 'exit.json')).catch(() => undefined);
  }

  async writeExitRecord(id: string, rec: ProcessExitRecord): Promise<void> {
    await writeJsonAtomic(this.file(id, 'exit.json'), rec);
  }

  /** The id a name is claimed by, if that workload still exists. */
  async idOfName(name: string): Promise<string | undefined> {
    try {
      const id = (await readFile(this.nameClaim(name), 'utf8')).trim();
      return (await this.definition(id)) ? id : undefined;
    } catch (e) {
      if (isNodeError(e, 'ENOENT')) return undefined;
      throw e;
    }
  }

  /**
   * Make a workload's directory complete or not at all: it is assembled under a dot
   * name and renamed into place, and the name is claimed under the name's lock.
   */
  async create(def: Omit<ProcessDefinition, 'id' | 'version' | 'createdAt'>, origin: string): Promise<ProcessDefinition> {
    await this.ensure();
    return withLock(this.lockPath(`name-${def.name}`), `create by ${origin}`, `name '${def.name}'`, async () => {
      const existing = await this.idOfName(def.name);
      if (existing) throw driverError('process', 'CONFLICT', `a workload named '${def.name}' already exists (process:${existing})`);
      const id = randomBytes(6).toString('hex');
      const full: ProcessDefinition = { version: 1, id, createdAt: new Date().toISOString(), ...def };
      const partial = join(this.base, `.partial-${id}`);
      await mkdir(partial, { mode: 0o700 });
      try {
        await writeJsonAtomic(join(partial, 'definition.json'), full);
        await writeJsonAtomic(join(partial, 'state.json'), {});
        // The claim first: a claim whose directory never appeared is ignored (idOfName), but a
        // directory without its claim would let a second create take the same name.
        await writeFileAtomic(this.nameClaim(def.name), id);
        await rename(partial, this.dir(id));
      } catch (e) {
        await rm(partial, { recursive: true, force: true });
        throw e;
      }
      return full;
    });
  }

  async updateDefinition(def: ProcessDefinition): Promise<void> {
    await writeJsonAtomic(this.file(def.id, 'definition.json'), def);
  }

  /** Remove a workload's directory: renamed out of sight first, so a crash never leaves half a definition listed. */
  async remove(def: ProcessDefinition): Promise<void> {
    const trash = join(this.base, `.trash-${def.id}`);
    await rename(this.dir(def.id), trash);
    await rm(trash, { recursive: true, force: true });
    const claim = await readFile(this.nameClaim(def.name), 'utf8').catch(() => '');
    if (claim.trim() === def.id) await rm(this.nameClaim(def.name), { force: true });
  }

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

  withLock<T>(id: string, op: string, what: string, fn: () => Promise<T>): Promise<T> {
    return (async () => {
      await this.ensure();
      return withLock(this.lockPath(id), op, what, fn);
    })();
  }
}
