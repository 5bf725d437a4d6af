import { randomBytes } from 'node:crypto';
import type { ProcessCreateSpec } from '../../../../shared/drivers/process.js';
import type { WorkloadDetail, WorkloadInfo } from '../../../../shared/model.js';
import { workloadId } from '../../../../shared/ids.js';
import { driverError } from '../../base/errors.js';
import { readProcIo, readStat, waitGone, CLK_TCK, PAGE_SIZE } from '../../base/procfs.js';
import { DisposableStore, type Disposable } from '../../base/lifecycle.js';
import { tailFile } from '../../base/tail.js';
import { pollWatch } from '../common/poll-watch.js';
import { PinnedSet } from '../../base/pinned.js';
import { PinnedProc } from './pinned-proc.js';
import { readPinnedStat, type PinnedStat } from '../../base/pinned-stat.js';
import type { Detection, Driver, DriverEnv, LogSink, OpContext, RawSample, StopOptions } from '../driver.js';
import { detectCgroups, type CgroupHost } from './cgroups.js';
import { baseEnv, observe, resolveCommand, signalGroup, spawnDetached, startedAtOf } from './runtime.js';
import { ProcessStore, type ProcessDefinition, type ProcessRunState, type ProcessSnapshot } from './store.js';

const D = 'process';
/** How old a /proc stat read (by the metrics) the listing may take instead of reading again. */
const STAT_REUSE_MS = 900;

/**
 * Plain host processes as workloads: started detached so they outlive the app, watched
 * through /proc, limited through cgroups where the host allows.
 */
export async function createProcessDriver(env: DriverEnv): Promise<Driver> {
  const store = new ProcessStore(env.config['process.base_path']);
  /** Watched processes' counters, kept open with the files they were opened for. */
  const pinned = new PinnedSet<{ proc: PinnedProc; snap: ProcessSnapshot } & Disposable>();
  let cgroups: CgroupHost | undefined;
  const cg = async () => (cgroups ??= await detectCgroups());
  void store.sweep();

  const notFound = (local: string) => driverError(D, 'NOT_FOUND', `no process workload '${local}'`);
  const load = async (local: string): Promise<ProcessDefinition> => {
    const def = await store.definition(local);
    if (!def) throw notFound(local);
    return def;
  };

  const summaryOf = (def: ProcessDefinition) => [def.cmd, ...def.args].join(' ').slice(0, 200);

  const infoOf = async (def: ProcessDefinition, known?: ProcessSnapshot): Promise<WorkloadInfo> => {
    const run = known?.run ?? (await store.runState(def.id));
    const seen = await observe(store, def, run, known?.exit);
    return {
      id: workloadId(D, def.id),
      driver: D,
      name: def.name,
      state: seen.state,
      managed: true,
      createdAt: def.createdAt,
      ...(seen.state === 'running' || seen.state === 'paused' ? { startedAt: run.startedAt ?? startedAtOf(run.startTicks ?? 0) } : {}),
      ...(seen.exit ? { exit: seen.exit } : {}),
      summary: summaryOf(def),
    };
  };

  const info = async (local: string) => infoOf(await load(local));

  /**
   * What the last listing made of each workload, and what it was made from: its files (the
   * store's snapshot, the same object while they are unchanged) and its process's state
   * letter, read through a /proc stat kept open. The watcher lists every second; a
   * workload whose files and process are as they were is given as the same object, so
   * nothing is re-derived and the watcher's comparison is one identity check.
   */
  const shown = new Map<string, { snap: ProcessSnapshot; proc: string; info: WorkloadInfo }>();
  const procStats = new PinnedSet<PinnedStat>();
  // As observe() tells them apart: stopped (T) is paused, any other live state (R, S, D…) running.
  // A read the metrics made within STAT_REUSE_MS will do: a watched process's stat is then read once a
  // second, not twice, and a process that ends still shows within the watcher's tick plus that.
  const procOf = (run: ProcessRunState) => {
    if (run.pid === undefined || run.startTicks === undefined) return 'none';
    const st = readPinnedStat(procStats, run.pid, run.startTicks, STAT_REUSE_MS);
    return !st ? 'gone' : st.state === 'T' ? 'paused' : 'running';
  };

  const list = async (): Promise<WorkloadInfo[]> => {
    const ids = await store.ids();
    const rows = await Promise.all(
      ids.map(async (id) => {
        // A workload deleted meanwhile, or a definition a crash left unreadable, is not listed.
        const snap = await store.snapshot(id).catch(() => undefined);
        if (!snap) return undefined;
        const proc = procOf(snap.run);
        const last = shown.get(id);
        // A pending spawn is looked for on every pass (observe adopts it), so it is never reused.
        if (last && last.snap === snap && last.proc === proc && !snap.run.spawning) return last.info;
        const info = await infoOf(snap.def, snap);
        shown.set(id, { snap, proc, info });
        return info;
      }),
    );
    const live = new Set(ids);
    for (const id of shown.keys()) if (!live.has(id)) shown.delete(id);
    return rows.filter((r): r is WorkloadInfo => r !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  };

  const what = (def: ProcessDefinition) => `process workload '${def.name}'`;

  const stopNow = async (def: ProcessDefinition, opts: StopOptions, ctx: OpContext) => {
    const seen = await observe(store, def, await store.runState(def.id));
    if (seen.state !== 'running' && seen.state !== 'paused') return;
    const run = seen.run;
    const { pid, startTicks } = run as { pid: number; startTicks: number };
    // Recorded before the first signal, so its death reads as "stopped", never "crashed".
    await store.writeRunState(def.id, { ...run, stoppedByUs: true, stoppedAt: new Date().toISOString() });
    if (!opts.force) {
      ctx.progress({ label: 'SIGTERM sent', done: 0, total: opts.timeoutSec, unit: 'steps' });
      await signalGroup(pid, startTicks, 'SIGTERM');
      // A stopped (paused) process only sees SIGTERM once it runs again.
      await signalGroup(pid, startTicks, 'SIGCONT');
      if (await waitGone(pid, startTicks, opts.timeoutSec * 1000, ctx.signal)) return;
      ctx.progress({ label: `still running after ${opts.timeoutSec}s: SIGKILL`, done: opts.timeoutSec, total: opts.timeoutSec, unit: 'steps' });
    }
    await signalGroup(pid, startTicks, 'SIGKILL');
    if (!(await waitGone(pid, startTicks, 5_000))) {
      throw driverError(D, 'TIMEOUT', `${what(def)}: pid ${pid} survived SIGKILL for 5 s (uninterruptible sleep?)`);
    }
  };

  const driver: Driver = {
    id: D,
    name: 'Process',
    limits: { memory: true, cpu: true },
    notImplemented: {
      terminal: 'a running process has no TTY to attach to; its output is in Logs',
      console: 'a plain process has no display',
      snapshot: 'a process has no image to snapshot (CRIU checkpointing fails on this kernel)',
      migrate: 'a process cannot move between hosts without CRIU',
      images: 'processes run host programs, not images',
    },

    async detect(): Promise<Detection> {
      const host = await cg();
      const unsupported: Detection['unsupported'] = {};
      if (host.memory && host.cpu) unsupported.limits = host.memory;
      if (host.memory && host.cpu) unsupported.scale = host.memory;
      const details: Record<string, string> = { base_path: store.base, cgroups: `v${host.version}` };
      if (host.memory) details.memory_limits = host.memory;
      if (host.cpu) details.cpu_limits = host.cpu;
      return { available: true, version: process.version, unsupported, details };
    },

    list: () => list(),
    info: (local) => info(local),

    async inspect(local): Promise<WorkloadDetail> {
      const def = await load(local);
      const run = await store.runState(def.id);
      const w = await infoOf(def);
      const alive = w.state === 'running' || w.state === 'paused';
      return {
        info: w,
        config: { cmd: def.cmd, args: def.args, env: def.env, cwd: def.cwd ?? null, memoryMB: def.memoryMB ?? null, cpuPercent: def.cpuPercent ?? null },
        runtime: {
          pid: alive ? (run.pid ?? null) : null,
          pgid: alive ? (run.pid ?? null) : null,
          dir: store.dir(def.id),
          stdout_log: store.file(def.id, 'stdout.log'),
          stderr_log: store.file(def.id, 'stderr.log'),
          started_at: run.startedAt ?? null,
          stopped_at: run.stoppedAt ?? null,
        },
      };
    },

    async create(spec, ctx) {
      const s = spec as ProcessCreateSpec;
      const host = await cg();
      if (s.memoryMB !== undefined && host.memory) throw driverError(D, 'NOT_SUPPORTED', `memoryMB: ${host.memory}`);
      if (s.cpuPercent !== undefined && host.cpu) throw driverError(D, 'NOT_SUPPORTED', `cpuPercent: ${host.cpu}`);
      const cmd = await resolveCommand(s.cmd, baseEnv(s.env));
      ctx.signal.throwIfAborted();
      const def = await store.create(
        {
          name: s.name,
          cmd,
          args: s.args,
          env: s.env,
          ...(s.cwd ? { cwd: s.cwd } : {}),
          ...(s.memoryMB !== undefined ? { memoryMB: s.memoryMB } : {}),
          ...(s.cpuPercent !== undefined ? { cpuPercent: s.cpuPercent } : {}),
        },
        ctx.origin,
      );
      return infoOf(def);
    },

    // start and delete read the program under its lock and refuse a live one themselves.
    refusesActive: true,

    async start(local, ctx) {
      const def = await load(local);
      return store.withLock(def.id, `start by ${ctx.origin}`, what(def), async () => {
        const seen = await observe(store, def, await store.runState(def.id));
        if (seen.state === 'running' || seen.state === 'paused') {
          throw driverError(D, 'CONFLICT', `${what(def)} is already ${seen.state} (pid ${seen.pid})`);
        }
        const { spawning: _earlier, ...run } = seen.run;
        // Recorded before the spawn: if this process dies right after it, the next one finds the program by the nonce.
        const nonce = randomBytes(12).toString('hex');
        await store.writeRunState(def.id, { ...run, spawning: { at: new Date().toISOString(), nonce } });
        let spawned;
        try {
          spawned = await spawnDetached(store, def, nonce, (rec) => store.writeExitRecord(def.id, rec).catch(() => undefined));
        } catch (e) {
          await store.writeRunState(def.id, run);
          throw e;
        }
        const { pid, startTicks } = spawned;
        await store.writeRunState(def.id, { pid, startTicks, startedAt: new Date().toISOString() });
        if (def.memoryMB !== undefined || def.cpuPercent !== undefined) {
          try {
            await (await cg()).apply(def.id, pid, {
              ...(def.memoryMB !== undefined ? { memoryMB: def.memoryMB } : {}),
              ...(def.cpuPercent !== undefined ? { cpuPercent: def.cpuPercent } : {}),
            });
          } catch (e) {
            // Never leave a process running without the limits it was promised.
            await signalGroup(pid, startTicks, 'SIGKILL');
            await store.writeRunState(def.id, { pid, startTicks, stoppedByUs: true, stoppedAt: new Date().toISOString() });
            throw driverError(D, 'UNAVAILABLE', `${what(def)}: cannot apply cgroup limits: ${(e as Error).message}`);
          }
        }
        return infoOf(def);
      });
    },

    async stop(local, opts, ctx) {
      const def = await load(local);
      return store.withLock(def.id, `stop by ${ctx.origin}`, what(def), async () => {
        await stopNow(def, opts, ctx);
        return infoOf(def);
      });
    },

    async restart(local, ctx) {
      await driver.stop!(local, { force: false, timeoutSec: 10 }, ctx);
      return driver.start!(local, ctx);
    },

    async pause(local, ctx) {
      const def = await load(local);
      return store.withLock(def.id, `pause by ${ctx.origin}`, what(def), async () => {
        const seen = await observe(store, def, await store.runState(def.id));
        if (seen.state !== 'running') throw driverError(D, 'CONFLICT', `${what(def)} is ${seen.state}, not running`);
        await signalGroup(seen.run.pid!, seen.run.startTicks!, 'SIGSTOP');
        await waitState(def, 'paused');
        return infoOf(def);
      });
    },

    async resume(local, ctx) {
      const def = await load(local);
      return store.withLock(def.id, `resume by ${ctx.origin}`, what(def), async () => {
        const seen = await observe(store, def, await store.runState(def.id));
        if (seen.state !== 'paused') throw driverError(D, 'CONFLICT', `${what(def)} is ${seen.state}, not paused`);
        await signalGroup(seen.run.pid!, seen.run.startTicks!, 'SIGCONT');
        await waitState(def, 'running');
        return infoOf(def);
      });
    },

    async delete(local, opts, ctx) {
      const def = await load(local);
      await store.withLock(def.id, `delete by ${ctx.origin}`, what(def), async () => {
        const seen = await observe(store, def, await store.runState(def.id));
        if (seen.state === 'running' || seen.state === 'paused') {
          if (!opts.force) throw driverError(D, 'CONFLICT', `${what(def)} is ${seen.state}: stop it first, or delete with force`);
          await stopNow(def, { force: true, timeoutSec: 0 }, ctx);
        }
        await (await cg()).remove(def.id);
        await store.remove(def);
      });
    },

    async scale(local, resources, ctx) {
      const def = await load(local);
      return store.withLock(def.id, `scale by ${ctx.origin}`, what(def), async () => {
        const host = await cg();
        if (resources.memoryMB !== undefined && host.memory) throw driverError(D, 'NOT_SUPPORTED', `memoryMB: ${host.memory}`);
        if (resources.cpus !== undefined && host.cpu) throw driverError(D, 'NOT_SUPPORTED', `cpus: ${host.cpu}`);
        const next: ProcessDefinition = {
          ...def,
          ...(resources.memoryMB !== undefined ? { memoryMB: resources.memoryMB } : {}),
          ...(resources.cpus !== undefined ? { cpuPercent: Math.round(resources.cpus * 100) } : {}),
        };
        await store.updateDefinition(next);
        const seen = await observe(store, next, await store.runState(def.id));
        if ((seen.state === 'running' || seen.state === 'paused') && seen.run.pid !== undefined) {
          await host.apply(def.id, seen.run.pid, {
            ...(resources.memoryMB !== undefined ? { memoryMB: resources.memoryMB } : {}),
            ...(resources.cpus !== undefined ? { cpuPercent: Math.round(resources.cpus * 100) } : {}),
          });
        }
        return infoOf(next);
      });
    },

    async metrics(local): Promise<RawSample> {
      // The watched case: its /proc files kept open (see base/pinned.ts) while its own files are
      // unchanged (the store's snapshot is then the same object: one stat); a scale that adds limits opens anew.
      const snap = await store.snapshot(local);
      if (!snap) throw notFound(local);
      const hit = pinned.get(local);
      if (hit && hit.snap === snap) {
        const s = hit.proc.sample();
        if (s) return s;
      }
      pinned.delete(local);
      const { def, run } = snap;
      const ts = Date.now();
      if (run.pid === undefined || run.startTicks === undefined) return { ts, cpuNs: 0, memoryBytes: 0, source: 'procfs' };
      if (def.memoryMB === undefined && def.cpuPercent === undefined) {
        const p = PinnedProc.open(run.pid, run.startTicks, procStats);
        const s = p?.sample();
        if (p && s) {
          pinned.set(local, { proc: p, snap, dispose: () => p.dispose() });
          return s;
        }
        p?.dispose();
      }
      const st = await readStat(run.pid);
      if (!st || st.startTicks !== run.startTicks) return { ts, cpuNs: 0, memoryBytes: 0, source: 'procfs' };
      const io = await readProcIo(run.pid);
      const group = def.memoryMB !== undefined || def.cpuPercent !== undefined ? await (await cg()).read(def.id) : undefined;
      const procCpuNs = ((st.utimeTicks + st.stimeTicks) * 1e9) / CLK_TCK;
      return {
        ts,
        cpuNs: group?.cpuNs ?? procCpuNs,
        memoryBytes: group?.memoryBytes ?? st.rssPages * PAGE_SIZE,
        ...(group?.memoryLimitBytes !== undefined ? { memoryLimitBytes: group.memoryLimitBytes } : {}),
        ...(io ? { diskReadBytes: io.readBytes, diskWriteBytes: io.writeBytes } : {}),
        source: group ? `cgroup v${cgroups?.version} + procfs` : 'procfs',
      };
    },

    dispose: () => {
      pinned.dispose();
      procStats.dispose();
    },

    logs(local, opts, sink: LogSink) {
      const store_ = new DisposableStore();
      let ended = 0;
      load(local).then(
        (def) => {
          for (const stream of ['stdout', 'stderr'] as const) {
            store_.add(
              tailFile(
                store.file(def.id, `${stream}.log`),
                { follow: opts.follow, ...(opts.tail !== undefined ? { tail: opts.tail } : {}) },
                (lines) => lines.forEach((line) => sink.line({ stream, line })),
                () => {
                  if (++ended === 2) sink.end();
                },
                (e) => sink.error(e),
              ),
            );
          }
        },
        (e: unknown) => sink.error(e),
      );
      return store_;
    },

    watch(emit) {
      return pollWatch(() => list(), emit, 1000, 'process');
    },
  };

  /** SIGSTOP and SIGCONT are asynchronous: wait until /proc shows the new state. */
  async function waitState(def: ProcessDefinition, want: 'paused' | 'running') {
    for (let i = 0; i < 200; i++) {
      const seen = await observe(store, def, await store.runState(def.id));
      if (seen.state === want) return;
      if (seen.state !== 'running' && seen.state !== 'paused') throw driverError(D, 'CONFLICT', `${what(def)} ended (${seen.state})`);
      await new Promise((r) => setTimeout(r, 10));
    }
    throw driverError(D, 'TIMEOUT', `${what(def)} did not become ${want}`);
  }

  return driver;
}
