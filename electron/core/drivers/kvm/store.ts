import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Accel, PortForward } from '../../../../shared/drivers/kvm.js';
import type { ExitInfo } from '../../../../shared/model.js';
import { driverError, isNodeError } from '../../base/errors.js';
import { readJson, sweepTempFiles, writeFileAtomic, writeJsonAtomic } from '../../base/fsx.js';
import { withLock } from '../../base/lock.js';
import { isSameProcess } from '../../base/procfs.js';

/** A disk of a VM. Owned disks live in the VM's directory (by file name); others are used in place. */
export interface VmDisk {
  /** QEMU node name: d0, d1… */
  node: string;
  /** A file inside the VM directory, created by NovaCron (new qcow2 or linked clone). */
  file?: string;
  /** An existing image outside, never deleted by NovaCron. */
  path?: string;
  format: string;
  /** The base image of a linked clone. */
  base?: string;
  virtualSizeBytes?: number;
}

/** What the admin asked for. Written atomically at create; scale rewrites memory/cpus. */
export interface VmDefinition {
  version: 1;
  id: string;
  name: string;
  createdAt: string;
  memoryMB: number;
  cpus: number;
  disks: VmDisk[];
  iso?: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  network: 'user' | 'none';
  portForwards: PortForward[];
  machine: string;
  accel: Accel;
}

/** The QEMU process currently (or last) running the VM. Its identity is pid + start ticks. */
export interface VmRunState {
  pid?: number;
  startTicks?: number;
  startedAt?: string;
  /** Which QEMU of this VM: each start or migration gets a fresh runtime dir run/<id>/<instance>. */
  instance?: number;
  runDir?: string;
  accel?: 'kvm' | 'tcg';
  /** Set before we ask QEMU to end, so its death reads as "stopped", never "crashed". */
  stopping?: boolean;
  stopReason?: string;
  stoppedAt?: string;
  /** The last run status QMP gave: the fallback while the monitor is busy. */
  lastStatus?: string;
  /** Written before QEMU is spawned: a NovaCron killed right after the spawn can be found out by its pidfile. */
  spawning?: { runDir: string; instance: number; accel: 'kvm' | 'tcg'; at: string };
  /** Written before a local migration spawns its destination: a NovaCron killed mid-migration leaves it to be reconciled. */
  migrating?: { runDir: string; instance: number; at: string };
  /** The source QEMU of a finished local migration, recorded with the destination: whoever sees it still alive ends it. */
  retiring?: { pid: number; startTicks: number; runDir?: string };
}

/** How a QEMU ended, written by the NovaCron process that spawned it when it saw the end. */
export interface VmExitRecord extends ExitInfo {
  pid: number;
  startTicks: number;
}

export type VmFile = 'definition.json' | 'state.json' | 'exit.json' | 'serial.log' | 'qemu.log';

const ID_RE = /^[0-9a-f]{12}$/;
export const isVmId = (s: string) => ID_RE.test(s);

/**
 * The kvm driver's folder: one directory per VM (definition, state, logs, owned disks),
 * an index of names so two creates of one name cannot both win, and the locks. Runtime
 * dirs (sockets, pidfile) live apart, under the short run path.
 */
export class VmStore {
  constructor(
    readonly base: string,
    readonly runBase: string,
  ) {}

  dir(id: string): string {
    return join(this.base, id);
  }
  file(id: string, name: VmFile): string {
    return join(this.base, id, name);
  }
  runDir(id: string, instance: number): string {
    return join(this.runBase, id, String(instance));
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
      return (await readdir(this.base)).filter(isVmId);
    } catch (e) {
      if (isNodeError(e, 'ENOENT')) return [];
      throw e;
    }
  }

  async definition(id: string): Promise<VmDefinition | undefined> {
    if (!isVmId(id)) return undefined;
    return readJson<VmDefinition>(this.file(id, 'definition.json'));
  }

  async runState(id: string): Promise<VmRunState> {
    return (await readJson<VmRunState>(this.file(id, 'state.json'))) ?? {};
  }

  async writeRunState(id: string, state: VmRunState): Promise<void> {
    await writeJsonAtomic(this.file(id, 'state.json'), state);
  }

  async patchRunState(id: string, patch: Partial<VmRunState>): Promise<VmRunState> {
    const next = { ...(await this.runState(id)), ...patch };
    await this.writeRunState(id, next);
    return next;
  }

  async exitRecord(id: string): Promise<VmExitRecord | undefined> {
    return readJson<VmExitRecord>(this.file(id, 'exit.json')).catch(() => undefined);
  }

  async writeExitRecord(id: string, rec: VmExitRecord): Promise<void> {
    await writeJsonAtomic(this.file(id, 'exit.json'), rec);
  }

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
   * Make a VM's directory complete or not at all: disks and definition are made in a dot
   * directory (fill gets its path) and renamed into place, under the name's lock.
   */
  async create(
    def: Omit<VmDefinition, 'id' | 'version' | 'createdAt' | 'disks'>,
    origin: string,
    fill: (dir: string, id: string) => Promise<VmDisk[]>,
  ): Promise<VmDefinition> {
    await this.ensure();
    return withLock(this.lockPath(`name-${def.name}`), `create by ${origin}`, `name '${def.name}'`, async () => {
      const existing = await this.idOfName(def.name);
      if (existing) throw driverError('kvm', 'CONFLICT', `a VM named '${def.name}' already exists (kvm:${existing})`);
      const id = randomBytes(6).toString('hex');
      const partial = join(this.base, `.partial-${id}`);
      await mkdir(partial, { mode: 0o700 });
      let full: VmDefinition;
      try {
        const disks = await fill(partial, id);
        full = { version: 1, id, createdAt: new Date().toISOString(), ...def, disks };
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

  async updateDefinition(def: VmDefinition): Promise<void> {
    await writeJsonAtomic(this.file(def.id, 'definition.json'), def);
  }

  /** Remove the VM's own directory and runtime dirs, and nothing else: external disks stay where they are. */
  async remove(def: VmDefinition): Promise<void> {
    const trash = join(this.base, `.trash-${def.id}`);
    await rename(this.dir(def.id), trash);
    await rm(trash, { recursive: true, force: true });
    await rm(join(this.runBase, def.id), { recursive: true, force: true });
    const claim = await readFile(this.nameClaim(def.name), 'utf8').catch(() => '');
    if (claim.trim() === def.id) await rm(this.nameClaim(def.name), { force: true });
  }

  /** Leftovers of creates and deletes a kill -9 interrupted; only old ones, a young one may be in progress. */
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
    for (const dir of [...names.filter(isVmId).map((n) => join(this.base, n)), join(this.base, '.names')]) await sweepTempFiles(dir, olderThanMs);
  }

  /** Whether a live process holds the VM's lock (an operation is in progress somewhere). */
  async busy(id: string): Promise<boolean> {
    const owner = await readJson<{ pid: number; startTicks: number }>(join(this.lockPath(id), 'owner.json')).catch(() => undefined);
    return owner !== undefined && (await isSameProcess(owner.pid, owner.startTicks));
  }

  async withLock<T>(id: string, op: string, what: string, fn: () => Promise<T>): Promise<T> {
    await this.ensure();
    return withLock(this.lockPath(id), op, what, fn);
  }
}
