import type { ExitInfo } from '../../../../shared/model.js';
import { WorkloadStore, type StoreSnapshot } from '../common/workload-store.js';

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

export type ProcessSnapshot = StoreSnapshot<ProcessDefinition, ProcessRunState, ProcessExitRecord>;

/** The process driver's folder: one directory per workload (definitions, state, stdout/stderr logs). */
export class ProcessStore extends WorkloadStore<ProcessDefinition, ProcessRunState, ProcessExitRecord, 'stdout.log' | 'stderr.log'> {
  constructor(base: string) {
    super(base, { driver: 'process', noun: 'a workload' });
  }

  create(def: Omit<ProcessDefinition, 'id' | 'version' | 'createdAt'>, origin: string): Promise<ProcessDefinition> {
    return this.createDir(def.name, origin, (_dir, id) => Promise.resolve({ version: 1, id, createdAt: new Date().toISOString(), ...def }));
  }
}
