import { access, mkdir, readFile, rmdir, writeFile, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { isNodeError } from '../../base/errors.js';

/**
 * CPU and memory limits for plain processes, through cgroups. We only make and remove
 * our own child groups (`novacron/<id>`); the host's mounts are never touched.
 */
export interface CgroupLimits {
  memoryMB?: number;
  cpuPercent?: number;
}

export interface CgroupHost {
  version: 1 | 2;
  /** Why limits cannot be set here, per resource. */
  memory?: string;
  cpu?: string;
  apply(id: string, pid: number, limits: CgroupLimits): Promise<void>;
  remove(id: string): Promise<void>;
  /** Counters of the workload's group: CPU ns and memory bytes, or undefined when it has none. */
  read(id: string): Promise<{ cpuNs?: number; memoryBytes?: number; memoryLimitBytes?: number } | undefined>;
}

const ROOT = '/sys/fs/cgroup';
const GROUP = 'novacron';
const PERIOD_US = 100_000;

async function writable(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

async function readNumber(path: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(path, 'utf8')).trim().split(/\s+/)[0]);
    return Number.isFinite(n) ? n : undefined;
  } catch (e) {
    if (isNodeError(e, 'ENOENT')) return undefined;
    throw e;
  }
}

async function rmGroup(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (e) {
    // ENOENT: never made; EBUSY: a process is still inside and the kernel keeps it.
    if (!isNodeError(e, 'ENOENT') && !isNodeError(e, 'EBUSY')) throw e;
  }
}

export async function detectCgroups(): Promise<CgroupHost> {
  const unified = await readFile(join(ROOT, 'cgroup.controllers'), 'utf8').catch(() => undefined);
  if (unified !== undefined) return v2Host(unified.split(/\s+/));
  return v1Host();
}

async function v1Host(): Promise<CgroupHost> {
  const mem = join(ROOT, 'memory');
  const cpu = join(ROOT, 'cpu');
  const cpuacct = join(ROOT, 'cpuacct');
  const memOk = await writable(mem);
  const cpuOk = await writable(cpu);
  const why = (c: string) => `the cgroup v1 ${c} controller at ${ROOT}/${c} is not writable by this user (run as root)`;
  return {
    version: 1,
    ...(memOk ? {} : { memory: why('memory') }),
    ...(cpuOk ? {} : { cpu: why('cpu') }),
    async apply(id, pid, limits) {
      if (limits.memoryMB !== undefined && memOk) {
        const g = join(mem, GROUP, id);
        await mkdir(g, { recursive: true });
        await writeFile(join(g, 'memory.limit_in_bytes'), String(limits.memoryMB * 1024 * 1024));
        await writeFile(join(g, 'cgroup.procs'), String(pid));
      }
      if (limits.cpuPercent !== undefined && cpuOk) {
        const g = join(cpu, GROUP, id);
        await mkdir(g, { recursive: true });
        await writeFile(join(g, 'cpu.cfs_period_us'), String(PERIOD_US));
        await writeFile(join(g, 'cpu.cfs_quota_us'), String(Math.round((PERIOD_US * limits.cpuPercent) / 100)));
        await writeFile(join(g, 'cgroup.procs'), String(pid));
        // cpuacct is mounted apart from cpu on hybrid hosts; join it too so CPU time is counted per group.
        if (await writable(cpuacct)) {
          const a = join(cpuacct, GROUP, id);
          await mkdir(a, { recursive: true });
          await writeFile(join(a, 'cgroup.procs'), String(pid)).catch(() => undefined);
        }
      }
    },
    async remove(id) {
      await Promise.all([mem, cpu, cpuacct].map((c) => rmGroup(join(c, GROUP, id))));
    },
    async read(id) {
      const memoryBytes = await readNumber(join(mem, GROUP, id, 'memory.usage_in_bytes'));
      const memoryLimitBytes = await readNumber(join(mem, GROUP, id, 'memory.limit_in_bytes'));
      const cpuNs = (await readNumber(join(cpuacct, GROUP, id, 'cpuacct.usage'))) ?? (await readNumber(join(cpu, GROUP, id, 'cpuacct.usage')));
      if (memoryBytes === undefined && cpuNs === undefined) return undefined;
      return {
        ...(cpuNs !== undefined ? { cpuNs } : {}),
        ...(memoryBytes !== undefined ? { memoryBytes } : {}),
        ...(memoryLimitBytes !== undefined ? { memoryLimitBytes } : {}),
      };
    },
  };
}

async function v2Host(controllers: string[]): Promise<CgroupHost> {
  const base = join(ROOT, GROUP);
  const canWrite = await writable(ROOT);
  const missing = (c: string) =>
    !controllers.includes(c)
      ? `the cgroup v2 ${c} controller is not enabled at ${ROOT}`
      : !canWrite
        ? `${ROOT} is not writable by this user (run as root or with a delegated cgroup)`
        : undefined;
  const memWhy = missing('memory');
  const cpuWhy = missing('cpu');
  return {
    version: 2,
    ...(memWhy ? { memory: memWhy } : {}),
    ...(cpuWhy ? { cpu: cpuWhy } : {}),
    async apply(id, pid, limits) {
      if (limits.memoryMB === undefined && limits.cpuPercent === undefined) return;
      await mkdir(base, { recursive: true });
      const enable = ['memory', 'cpu'].filter((c) => controllers.includes(c)).map((c) => `+${c}`).join(' ');
      if (enable) await writeFile(join(base, 'cgroup.subtree_control'), enable).catch(() => undefined);
      const g = join(base, id);
      await mkdir(g, { recursive: true });
      if (limits.memoryMB !== undefined && !memWhy) await writeFile(join(g, 'memory.max'), String(limits.memoryMB * 1024 * 1024));
      if (limits.cpuPercent !== undefined && !cpuWhy) {
        await writeFile(join(g, 'cpu.max'), `${Math.round((PERIOD_US * limits.cpuPercent) / 100)} ${PERIOD_US}`);
      }
      await writeFile(join(g, 'cgroup.procs'), String(pid));
    },
    async remove(id) {
      await rmGroup(join(base, id));
    },
    async read(id) {
      const g = join(base, id);
      const stat = await readFile(join(g, 'cpu.stat'), 'utf8').catch(() => undefined);
      const memoryBytes = await readNumber(join(g, 'memory.current'));
      if (stat === undefined && memoryBytes === undefined) return undefined;
      const usec = stat ? Number(/^usage_usec (\d+)$/m.exec(stat)?.[1]) : NaN;
      const max = await readFile(join(g, 'memory.max'), 'utf8').catch(() => 'max');
      return {
        ...(Number.isFinite(usec) ? { cpuNs: usec * 1000 } : {}),
        ...(memoryBytes !== undefined ? { memoryBytes } : {}),
        ...(max.trim() !== 'max' && Number.isFinite(Number(max)) ? { memoryLimitBytes: Number(max) } : {}),
      };
    },
  };
}
