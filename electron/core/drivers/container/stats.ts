import { totalmem } from 'node:os';
import type { Disposable } from '../../base/lifecycle.js';
import { PinnedFile } from '../../base/pinned.js';
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

/** v1 mounts each controller on its own name, or on "cpu,cpuacct": every spelling of a file. */
const alt = (dir: string, file: string) => {
  const [, ctrl = '', rest = ''] = /^\/sys\/fs\/cgroup\/([^/]+)(.*)$/.exec(dir) ?? [];
  const names = new Set([ctrl, ...ctrl.split(',')]);
  return [...names].map((n) => `${ROOT}/${n}${rest}/${file}`);
};

const pinFirst = (paths: string[]) => {
  for (const p of paths) {
    const f = PinnedFile.open(p);
    if (f) return f;
  }
  return undefined;
};

/** One `key value` line of a cgroup stat file, found in place: read every second per container, the file has some 40 lines and we need one or two. */
export function statField(text: string, key: string): number | undefined {
  let at = text.startsWith(`${key} `) ? 0 : text.indexOf(`\n${key} `);
  if (at < 0) return undefined;
  if (at > 0) at++;
  const start = at + key.length + 1;
  const end = text.indexOf('\n', start);
  const n = Number(text.slice(start, end < 0 ? undefined : end));
  return Number.isFinite(n) ? n : undefined;
}

/** The host's memory, what an unlimited container is shown against; read anew once a minute, not once per container per second (it is a read of /proc/meminfo). */
let hostMem: { bytes: number; at: number } | undefined;
function hostMemory(): number {
  const now = Date.now();
  if (!hostMem || now - hostMem.at > 60_000) hostMem = { bytes: totalmem(), at: now };
  return hostMem.bytes;
}

/**
 * Sum of rx/tx over the namespace's interfaces but lo, as `docker stats` shows them. Read
 * in place (this runs for every watched container every second): after each interface's
 * colon, rx bytes is the 1st number and tx bytes the 9th.
 */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  // The first two lines are headers.
  let line = text.indexOf('\n', text.indexOf('\n') + 1) + 1;
  while (line > 0 && line < text.length) {
    const end = text.indexOf('\n', line);
    const stop = end < 0 ? text.length : end;
    const colon = text.indexOf(':', line);
    if (colon >= 0 && colon < stop && text.slice(line, colon).trim() !== 'lo') {
      let field = 0;
      let n = 0;
      let inNum = false;
      for (let i = colon + 1; i <= stop && field < 9; i++) {
        const c = i < stop ? text.charCodeAt(i) : 32;
        if (c >= 48 && c <= 57) {
          n = n * 10 + (c - 48);
          inNum = true;
        } else if (inNum) {
          field++;
          if (field === 1) rx += n;
          if (field === 9) tx += n;
          n = 0;
          inNum = false;
        }
      }
    }
    line = end < 0 ? -1 : end + 1;
  }
  return { rx, tx };
}

/**
 * A running container's counters, kept open (see base/pinned.ts): cgroup files for CPU,
 * memory and block I/O, and its init process's /proc/<pid>/net/dev for the network.
 * sample() answers undefined once the container's cgroup is gone (it stopped, or
 * restarted into a fresh one): the caller looks it up again.
 */
export class PinnedCgroup implements Disposable {
  private constructor(
    readonly version: 1 | 2,
    private readonly files: Record<'cpu' | 'mem' | 'memStat' | 'net', PinnedFile> & { limit?: PinnedFile; io?: PinnedFile },
  ) {}

  /** Undefined when the files cannot be opened here (another cgroup namespace, say): the engine API is the fallback. */
  static open(files: CgroupFiles, pid: number): PinnedCgroup | undefined {
    const v1 = files.version === 1;
    const opened = v1
      ? {
          cpu: pinFirst(alt(files.cpu, 'cpuacct.usage')),
          mem: pinFirst(alt(files.memory, 'memory.usage_in_bytes')),
          memStat: pinFirst(alt(files.memory, 'memory.stat')),
          io: pinFirst([...alt(files.blkio, 'blkio.throttle.io_service_bytes_recursive'), ...alt(files.blkio, 'blkio.throttle.io_service_bytes')]),
        }
      : {
          cpu: PinnedFile.open(`${files.cpu}/cpu.stat`),
          mem: PinnedFile.open(`${files.memory}/memory.current`),
          memStat: PinnedFile.open(`${files.memory}/memory.stat`),
          limit: PinnedFile.open(`${files.memory}/memory.max`),
          io: PinnedFile.open(`${files.blkio}/io.stat`),
        };
    const net = PinnedFile.open(`/proc/${pid}/net/dev`);
    const all = { ...opened, net };
    if (!all.cpu || !all.mem || !all.memStat || !all.net || (!v1 && !all.limit)) {
      for (const f of Object.values(all)) f?.dispose();
      return undefined;
    }
    return new PinnedCgroup(files.version, all as PinnedCgroup['files']);
  }

  sample(): RawSample | undefined {
    const ts = Date.now();
    const f = this.files;
    const [cpu, mem, memStat] = [f.cpu.read(), f.mem.read(), f.memStat.read()];
    if (cpu === undefined || mem === undefined || memStat === undefined) return undefined;
    const usage = Number(mem);
    let cpuNs: number;
    let limit: number | undefined;
    let inactive: number | undefined;
    let read = 0;
    let write = 0;
    const io = f.io?.read() ?? '';
    if (this.version === 1) {
      cpuNs = Number(cpu);
      // The memory.stat of v1 carries the limit too, so memory.limit_in_bytes is not read.
      limit = statField(memStat, 'hierarchical_memory_limit');
      inactive = statField(memStat, 'total_inactive_file');
      for (const l of io.split('\n')) {
        const [, op, v] = l.trim().split(' ');
        if (op === 'Read') read += Number(v);
        if (op === 'Write') write += Number(v);
      }
    } else {
      cpuNs = (statField(cpu, 'usage_usec') ?? 0) * 1000;
      const max = f.limit!.read()?.trim();
      limit = max === undefined || max === 'max' ? undefined : Number(max);
      inactive = statField(memStat, 'inactive_file');
      for (const m of io.matchAll(/rbytes=(\d+) wbytes=(\d+)/g)) {
        read += Number(m[1]);
        write += Number(m[2]);
      }
    }
    const netText = f.net.read();
    if (netText === undefined) return undefined;
    const net = parseNetDev(netText);
    const host = hostMemory();
    return {
      ts,
      cpuNs,
      memoryBytes: inactive !== undefined && inactive < usage ? usage - inactive : usage,
      // Unlimited reads as a huge number: the engine, too, reports the host's memory then.
      memoryLimitBytes: limit === undefined || !Number.isFinite(limit) || limit > host ? host : limit,
      diskReadBytes: read,
      diskWriteBytes: write,
      netRxBytes: net.rx,
      netTxBytes: net.tx,
      source: `cgroup v${this.version}`,
    };
  }

  dispose(): void {
    for (const f of Object.values(this.files)) (f as PinnedFile | undefined)?.dispose();
  }
}
