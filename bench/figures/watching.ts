import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { NovaClient } from '../../shared/contract/client.js';
import { Core } from '../../electron/core/core.js';
import { inprocClient } from '../../electron/core/transport/inproc.js';
import { busyboxImage, cleanupPrefix, docker, dockerWhy } from '../../tests/helpers/docker.js';
import { bootSectorImage } from '../../tests/helpers/guests.js';
import { wsClient } from '../../tests/helpers/ws-client.js';
import { median, pidsByName, sleep } from '../lib/measure.js';
import { startServe, type Served } from '../lib/serve.js';
import { entry, type Entry } from '../lib/report.js';
import type { BenchContext } from '../lib/context.js';

/** CPU seconds of a process including its reaped children (a shim's runc calls). */
function cpuWithChildren(pid: number): number {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}

/** User and system CPU seconds of one process: system time is the kernel's work for it (file reads, syscalls). */
function userSys(pid: number): [number, number] {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return [Number(f[11]) / 100, Number(f[12]) / 100];
  } catch {
    return [0, 0];
  }
}

const DOCKERD = (comm: string) => comm === 'dockerd';
const CONTAINERD = (comm: string) => comm === 'containerd';
const SHIMS = (comm: string) => comm.startsWith('containerd-shim');

/** CPU seconds over `ms` of each group of processes, the set of pids read again at the start. */
async function window(ms: number, groups: Record<string, () => number[]>): Promise<Record<string, number>> {
  const pids = Object.fromEntries(Object.entries(groups).map(([k, f]) => [k, f()]));
  const before = Object.fromEntries(Object.entries(pids).map(([k, ps]) => [k, new Map(ps.map((p) => [p, cpuWithChildren(p)]))]));
  await sleep(ms);
  const out: Record<string, number> = {};
  for (const [k, m] of Object.entries(before)) {
    let s = 0;
    for (const [p, c0] of m) s += Math.max(0, cpuWithChildren(p) - c0);
    out[k] = s;
  }
  return out;
}

/**
 * Figure 4: what watching costs. 50 containers, 50 processes and two running VMs; the
 * core (`novacron serve`, in its own process) watches all of them at 1 Hz the way the UI
 * does (the events stream plus one metrics stream per workload, over the WebSocket),
 * against `docker stats` watching the 50 containers. Each is charged its own CPU plus
 * the extra CPU of the engines (dockerd, containerd, the shims, our QEMUs) over an idle
 * window in which nothing watches. Windows take turns, so drifting load falls on all.
 * Both watchers are measured in their steady state, one window after they began (the
 * core's first window, its V8 warm-up, is given in the note).
 */
export async function watching(ctx: BenchContext): Promise<Entry[]> {
  const why = dockerWhy();
  if (why) throw new Error(`docker: ${why}`);
  const n = ctx.quick ? 5 : 50;
  // BENCH_WATCH_VMS: another number of VMs, to see what they cost apart.
  const vms = process.env.BENCH_WATCH_VMS !== undefined ? Number(process.env.BENCH_WATCH_VMS) : ctx.quick ? 1 : 2;
  const windowMs = ctx.quick ? 5_000 : 30_000;
  const rounds = ctx.quick ? 1 : 2;
  const t = ctx.tempHome();
  const prefix = `nc-bench-w${randomBytes(3).toString('hex')}`;
  const d = docker();
  const ids: string[] = [];
  let qemuPids: number[] = [];
  let srv: Served | undefined;
  let stats: ChildProcess | undefined;
  try {
    const image = await busyboxImage(d, `${prefix}-img:latest`);
    const core = await Core.open({ env: t.env });
    const client: NovaClient = inprocClient(core.router, 'test');
    try {
      ctx.log(`creating ${n} containers, ${n} processes, ${vms} VMs`);
      for (let i = 0; i < n; i++) {
        const c = await client.call('workloads.create', { driver: 'container', name: `${prefix}-c${i}`, image, cmd: 'sleep', args: ['3600'], start: true });
        const p = await client.call('workloads.create', { driver: 'process', name: `p${i}`, cmd: 'sleep', args: ['3600'] });
        await client.call('workloads.start', { id: p.id });
        ids.push(c.id, p.id);
      }
      for (let i = 0; i < vms; i++) {
        const v = await client.call('workloads.create', { driver: 'kvm', name: `vm${i}`, memoryMB: 32, disks: [{ base: bootSectorImage() }], network: 'none', accel: 'tcg' });
        await client.call('workloads.start', { id: v.id });
        ids.push(v.id);
        qemuPids.push(Number((await client.call('workloads.inspect', { id: v.id })).runtime.pid));
      }
    } finally {
      core.dispose();
    }
    const containerIds = (await d.listContainers({ filters: { name: [prefix] } })).map((c) => c.Id);
    const groups = {
      dockerd: () => pidsByName(DOCKERD),
      containerd: () => pidsByName(CONTAINERD),
      shims: () => pidsByName(SHIMS),
      qemu: () => qemuPids,
    };
    const engineSum = (w: Record<string, number>) => Object.keys(groups).reduce((sum, k) => sum + (w[k] ?? 0), 0);

    const idle: Record<string, number>[] = [];
    const ours: Record<string, number>[] = [];
    const cli: Record<string, number>[] = [];
    const sources = new Map<string, Set<string>>();
    const coreSplit: [number, number][] = [];
    const oursFirst: number[] = [];
    for (let r = 0; r < rounds; r++) {
      ctx.log(`round ${r + 1}: idle`);
      idle.push(await window(windowMs, groups));

      ctx.log(`round ${r + 1}: NovaCron watching`);
      srv = await startServe(ctx.root, t.env, process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-interval=10000', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []);
      const ws = await wsClient(`${srv.url.replace('http', 'ws')}ws`, { Authorization: `Bearer ${srv.token}` });
      ws.client.subscribe('events', {}, { event: () => undefined });
      for (const id of ids) {
        ws.client.subscribe('metrics', { id }, {
          event: (batch) => {
            const driver = id.slice(0, id.indexOf(':'));
            for (const s of batch) if (s.source) sources.set(driver, (sources.get(driver) ?? new Set()).add(s.source));
          },
        });
      }
      await sleep(3_000); // first readings, detection, the engines' first answers
      const corePid = srv.child.pid!;
      // The first window is the core warming up (V8 compiling the sampling paths): kept for the note.
      // The figure is the steady state after it, what a UI left open costs; docker stats gets the same settling.
      oursFirst.push((await window(windowMs, { core: () => [corePid] })).core!);
      const [u0, s0] = userSys(corePid);
      ours.push(await window(windowMs, { core: () => [corePid], ...groups }));
      const [u1, s1] = userSys(corePid);
      coreSplit.push([u1 - u0, s1 - s0]);
      ws.close();
      await srv.stop();
      srv = undefined;

      ctx.log(`round ${r + 1}: docker stats`);
      stats = spawn('docker', ['stats', ...containerIds], { stdio: ['ignore', 'pipe', 'ignore'] });
      stats.stdout!.resume();
      await sleep(3_000 + windowMs);
      const statsPid = stats.pid!;
      cli.push(await window(windowMs, { cli: () => [statsPid], ...groups }));
      stats.kill();
      stats = undefined;
    }
    const perMin = (x: number) => (x * 60_000) / windowMs;
    const med = (ws: Record<string, number>[], f: (w: Record<string, number>) => number) => median(ws.map(f));
    const base = med(idle, engineSum);
    const oursCore = perMin(med(ours, (w) => w.core!));
    const oursExtra = perMin(Math.max(0, med(ours, engineSum) - base));
    const cliOwn = perMin(med(cli, (w) => w.cli!));
    const cliExtra = perMin(Math.max(0, med(cli, engineSum) - base));
    const split = (ws: Record<string, number>[]) =>
      Object.keys(groups)
        .map((k) => `${k} ${perMin(med(ws, (w) => w[k]!) - med(idle, (w) => w[k]!)).toFixed(2)}`)
        .join(', ');
    const paths = [...sources].map(([drv, s]) => `${drv}: ${[...s].join(' / ')}`).join('; ');
    const what = `${n} containers + ${n} processes + ${vms} VMs`;
    return [
      entry(`watching ${what} at 1 Hz: all processes`, 'CPU-s/min', oursCore + oursExtra, cliOwn + cliExtra, `docker stats (${n} containers only)`, { max: 0.6 }, `sources: ${paths}`),
      entry('watching: the core process alone', 'CPU-s/min', oursCore, cliOwn, 'the docker stats process alone', { max: 0.6 }, `steady state (the ${windowMs / 1000} s after the first ${windowMs / 1000} s of watching, which cost ${perMin(median(oursFirst)).toFixed(2)} while V8 warmed up); of it, user ${perMin(median(coreSplit.map((x) => x[0]))).toFixed(2)}, system (the kernel, for its reads) ${perMin(median(coreSplit.map((x) => x[1]))).toFixed(2)}`),
      entry('watching: extra engine CPU (dockerd, containerd, shims, QEMU)', 'CPU-s/min', oursExtra, cliExtra, 'the same under docker stats', { max: 0.6 }, `over idle, CPU-s/min: ours ${split(ours)}; docker stats ${split(cli)}; the engines idle: ${perMin(base).toFixed(2)}`),
    ];
  } finally {
    stats?.kill();
    await srv?.stop();
    const core = await Core.open({ env: t.env });
    const client = inprocClient(core.router, 'test');
    for (const id of ids.filter((i) => !i.startsWith('container:'))) await client.call('workloads.delete', { id, force: true }).catch(() => undefined);
    core.dispose();
    await cleanupPrefix(d, prefix);
    t.cleanup();
    qemuPids = [];
  }
}
