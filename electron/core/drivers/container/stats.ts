import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import type { RawSample } from '../driver.js';

/**
 * Container metrics two ways. The cheap one reads the container's cgroup files and its
 * network namespace's /proc/<pid>/net/dev directly (an engine on this machine); the other
 * asks the engine's stats API (any engine), computing CPU % exactly as the docker CLI does.
 */

/** The part of the engine's stats JSON we read. */
export interface EngineStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op?: string; value?: number }[] | null };
}

/** docker CLI's calculateCPUPercentUnix: the container's share of the host's CPU time, times the CPUs online. */
export function dockerCpuPercent(s: EngineStats): number | undefined {
  const cur = s.cpu_stats;
  const pre = s.precpu_stats;
  if (!cur?.cpu_usage?.total_usage || !pre?.cpu_usage?.total_usage || !cur.system_cpu_usage || !pre.system_cpu_usage) return undefined;
  const cpuDelta = cur.cpu_usage.total_usage - pre.cpu_usage.total_usage;
  const systemDelta = cur.system_cpu_usage - pre.system_cpu_usage;
  const online = cur.online_cpus || cur.cpu_usage.percpu_usage?.length || 1;
  if (systemDelta <= 0 || cpuDelta < 0) return 0;
  return Math.round((cpuDelta / systemDelta) * online * 100 * 10) / 10;
}

/** docker CLI's calculateMemUsageUnixNoCache: usage less the inactive page cache. */
export function dockerMemory(m: EngineStats['memory_stats']): number {
  const usage = m?.usage ?? 0;
  const st = m?.stats ?? {};
  const inactive = st.total_inactive_file ?? st.inactive_file;
  return inactive !== undefined && inactive < usage ? usage - inactive : usage;
}

export function engineSample(s: EngineStats, source: string): RawSample {
  const ts = s.read && !s.read.startsWith('0001') ? Date.parse(s.read) : Date.now();
  const pct = dockerCpuPercent(s);
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    if (e.op?.toLowerCase() === 'read') read += e.value ?? 0;
    if (e.op?.toLowerCase() === 'write') write += e.value ?? 0;
  }
  return {
    ts: Number.isFinite(ts) ? ts : Date.now(),
    ...(pct !== undefined ? { cpuPercent: pct } : { cpuNs: s.cpu_stats?.cpu_usage?.total_usage ?? 0 }),
    memoryBytes: dockerMemory(s.memory_stats),
    ...(s.memory_stats?.limit ? { memoryLimitBytes: s.memory_stats.limit } : {}),
    ...(s.networks ? { netRxBytes: rx, netTxBytes: tx } : {}),
    diskReadBytes: read,
    diskWriteBytes: write,
    source,
  };
}

/** Where a container's cgroup files are, learnt from its init process. */
export interface CgroupFiles {
  version: 1 | 2;
  cpu: string;
  memory: string;
  blkio: string;
}

const ROOT = '/sys/fs/cgroup';

/** /proc/<pid>/cgroup → the directories to read; undefined when the process is not in the container. */
export function cgroupFilesOf(procCgroup: string, containerId: string): CgroupFiles | undefined {
  if (!procCgroup.includes(containerId)) return undefined;
  const lines = procCgroup.trim().split('\n').map((l) => {
    const [, , controllers = '', path = ''] = /^(\d+):([^:]*):(.*)$/.exec(l) ?? [];
    return { controllers: controllers.split(','), path };
  });
  const v1 = (name: string) => {
    const l = lines.find((x) => x.controllers.includes(name));
    return l ? `${ROOT}/${l.controllers.join(',')}${l.path}` : undefined;
  };
  const cpu = v1('cpuacct');
  const memory = v1('memory');
  const blkio = v1('blkio');
  if (cpu && memory && blkio) return { version: 1, cpu, memory, blkio };
  const unified = lines.find((x) => x.controllers.length === 1 && x.controllers[0] === '');
  if (unified) {
    const dir = `${ROOT}${unified.path}`;
    return { version: 2, cpu: dir, memory: dir, blkio: dir };
  }
  return undefined;
}

/** v1 mounts each controller on its own name, or on "cpu,cpuacct": try both spellings. */
async function readFirst(paths: string[]): Promise<string> {
  let last: unknown;
  for (const p of paths) {
    try {
      return await readFile(p, 'utf8');
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

const alt = (dir: string, file: string) => {
  const [, ctrl = '', rest = ''] = /^\/sys\/fs\/cgroup\/([^/]+)(.*)$/.exec(dir) ?? [];
  const names = new Set([ctrl, ...ctrl.split(',')]);
  return [...names].map((n) => `${ROOT}/${n}${rest}/${file}`);
};

const statMap = (text: string) =>
  Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([k, v]) => [k ?? '', Number(v)]),
  ) as Record<string, number>;

/** Sum of rx/tx over the namespace's interfaces but lo, as `docker stats` shows them. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!rest || name?.trim() === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

/** One reading of the cgroup files; throws when they are not there (the caller falls back). */
export async function cgroupSample(files: CgroupFiles, pid: number): Promise<RawSample> {
  const ts = Date.now();
  let cpuNs: number;
  let usage: number;
  let limit: number | undefined;
  let inactive: number | undefined;
  let read = 0;
  let write = 0;
  if (files.version === 1) {
    const [cpu, mem, lim, mstat, blk] = await Promise.all([
      readFirst(alt(files.cpu, 'cpuacct.usage')),
      readFirst(alt(files.memory, 'memory.usage_in_bytes')),
      readFirst(alt(files.memory, 'memory.limit_in_bytes')),
      readFirst(alt(files.memory, 'memory.stat')),
      readFirst([...alt(files.blkio, 'blkio.throttle.io_service_bytes_recursive'), ...alt(files.blkio, 'blkio.throttle.io_service_bytes')]),
    ]);
    cpuNs = Number(cpu);
    usage = Number(mem);
    limit = Number(lim);
    inactive = statMap(mstat).total_inactive_file;
    for (const l of blk.split('\n')) {
      const [, op, v] = l.trim().split(' ');
      if (op === 'Read') read += Number(v);
      if (op === 'Write') write += Number(v);
    }
  } else {
    const [cpu, mem, lim, mstat, io] = await Promise.all([
      readFile(`${files.cpu}/cpu.stat`, 'utf8'),
      readFile(`${files.memory}/memory.current`, 'utf8'),
      readFile(`${files.memory}/memory.max`, 'utf8'),
      readFile(`${files.memory}/memory.stat`, 'utf8'),
      readFile(`${files.blkio}/io.stat`, 'utf8').catch(() => ''),
    ]);
    cpuNs = (statMap(cpu).usage_usec ?? 0) * 1000;
    usage = Number(mem);
    limit = lim.trim() === 'max' ? undefined : Number(lim);
    inactive = statMap(mstat).inactive_file;
    for (const m of io.matchAll(/rbytes=(\d+) wbytes=(\d+)/g)) {
      read += Number(m[1]);
      write += Number(m[2]);
    }
  }
  const net = parseNetDev(await readFile(`/proc/${pid}/net/dev`, 'utf8'));
  const host = totalmem();
  return {
    ts,
    cpuNs,
    memoryBytes: inactive !== undefined && inactive < usage ? usage - inactive : usage,
    // Unlimited reads as a huge number: the engine, too, reports the host's memory then.
    memoryLimitBytes: limit === undefined || limit > host ? host : limit,
    diskReadBytes: read,
    diskWriteBytes: write,
    netRxBytes: net.rx,
    netTxBytes: net.tx,
    source: `cgroup v${files.version}`,
  };
}
