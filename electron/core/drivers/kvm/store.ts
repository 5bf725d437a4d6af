import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Accel, PortForward } from '../../../../shared/drivers/kvm.js';
import type { ExitInfo } from '../../../../shared/model.js';
import type { DeferSync } from '../../base/fsx.js';
import { WorkloadStore } from '../common/workload-store.js';

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
  /** The run status QMP gave at start or revert: the fallback while the monitor is busy (after the runtime dir's status hint). */
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

/**
 * The kvm driver's folder: one directory per VM (definition, state, logs, owned disks).
 * Runtime dirs (sockets, pidfile) live apart, under the short run path.
 */
export class VmStore extends WorkloadStore<VmDefinition, VmRunState, VmExitRecord, 'serial.log' | 'qemu.log'> {
  constructor(
    base: string,
    readonly runBase: string,
  ) {
    super(base, { driver: 'kvm', noun: 'a VM' });
  }

  runDir(id: string, instance: number): string {
    return join(this.runBase, id, String(instance));
  }

  /** Owned disks are made by fill in the VM's dot directory, so a failed create leaves none. */
  create(
    def: Omit<VmDefinition, 'id' | 'version' | 'createdAt' | 'disks'>,
    origin: string,
    fill: (dir: string, id: string, defer: DeferSync) => Promise<VmDisk[]>,
  ): Promise<VmDefinition> {
    return this.createDir(def.name, origin, async (dir, id, defer) => {
      const disks = await fill(dir, id, defer);
      return { version: 1, id, createdAt: new Date().toISOString(), ...def, disks };
    });
  }

  /** The runtime dirs go too; external disks stay where they are. */
  protected override async removeOutside(def: VmDefinition): Promise<void> {
    // Sockets and a pidfile of a QEMU that is gone: a handful of unlinks.
    rmSync(join(this.runBase, def.id), { recursive: true, force: true });
    return Promise.resolve();
  }
}
