import { rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { cpus as hostCpus } from 'node:os';
import { migrationUriSchema } from '../../../../shared/drivers/kvm.js';
import type { SnapshotInfo, WorkloadInfo } from '../../../../shared/model.js';
import { driverError, invalid, NovaError } from '../../base/errors.js';
import { CLK_TCK, isSameProcess, PAGE_SIZE } from '../../base/procfs.js';
import type { ConsoleEndpoint, OpContext, RawSample, TerminalSession } from '../driver.js';
import { hostfwd, RUN_FILES } from './args.js';
import { D, type Kvm } from './context.js';
import { guestNetBytes } from './agent.js';
import { runMigration } from './migrate.js';
import { withQmp, type QmpClient } from './qmp.js';
import { observe, qmpPath, spawnQemu, terminate, what } from './runtime.js';
import { writeStatusHint } from './status-hint.js';
import { openSerialSession } from './serial.js';
import * as snaps from './snapshots.js';
import { onLive } from './lifecycle.js';
import { readPinnedStat } from '../../base/pinned-stat.js';
import type { VmDefinition } from './store.js';

const MiB = 1024 * 1024;

/**
 * QEMU reports a snapshot that ran out of room as "Input/output error": when the disk
 * holding the VM is (nearly) full, say that instead, with QEMU's words after it.
 */
async function whenFull(dir: string, e: unknown): Promise<unknown> {
  if (!(e instanceof NovaError) || e.code !== 'INTERNAL') return e;
  const fs = await statfs(dir).catch(() => undefined);
  if (!fs || fs.bavail * fs.bsize > 4 * MiB) return e;
  return driverError(D, 'UNAVAILABLE', `no space left on the device holding ${dir} (${Math.round((fs.bavail * fs.bsize) / 1024)} KiB free): ${e.message.replace(/^kvm: /, '')}`);
}

/** The runtime dir of a live VM, or undefined. */
async function liveRun(kvm: Kvm, def: VmDefinition) {
  const run = await kvm.store.runState(def.id);
  if (run.pid === undefined || run.startTicks === undefined || !run.runDir) return undefined;
  return (await isSameProcess(run.pid, run.startTicks)) ? run : undefined;
}

export async function listSnapshots(kvm: Kvm, local: string, signal: AbortSignal): Promise<SnapshotInfo[]> {
  const def = await kvm.load(local);
  const run = await liveRun(kvm, def);
  if (run) return kvm.qmp({ runDir: run.runDir }, (q) => snaps.listSnapshots(def, kvm.store.dir(def.id), kvm.qemuImg, q, signal), {}, true);
  return snaps.listSnapshots(def, kvm.store.dir(def.id), kvm.qemuImg, undefined, signal);
}

/** Live (with RAM) while QEMU runs, disk-only with qemu-img while it does not; one lock either way. */
async function withVm<T>(kvm: Kvm, local: string, op: string, ctx: OpContext, live: (def: VmDefinition, q: QmpClient) => Promise<T>, offline: (def: VmDefinition) => Promise<T>): Promise<T> {
  const def = await kvm.load(local);
  return kvm.store.withLock(def.id, `${op} by ${ctx.origin}`, what(def), async () => {
    const seen = await kvm.observe(def);
    if (seen.state === 'running' || seen.state === 'paused') {
      const run = seen.run ?? (await kvm.store.runState(def.id));
      return kvm.qmp(run, (q) => live(def, q), { timeoutMs: 10_000 });
    }
    return offline(def);
  });
}

export async function snapshotCreate(kvm: Kvm, local: string, name: string, ctx: OpContext): Promise<SnapshotInfo> {
  // Live: QEMU refuses a taken name itself, and lists the new one on the connection already open. Stopped: qemu-img.
  return withVm(
    kvm,
    local,
    'snapshot',
    ctx,
    (def, q) => snaps.createLive(q, def, name, ctx),
    async (def) => {
      const dir = kvm.store.dir(def.id);
      const list = () => snaps.listSnapshots(def, dir, kvm.qemuImg, undefined, ctx.signal);
      if ((await list()).some((s) => s.name === name)) throw driverError(D, 'CONFLICT', `a snapshot named '${name}' already exists`);
      await snaps.offline('-c', kvm.qemuImg, def, dir, name, ctx);
      const made = (await list()).find((s) => s.name === name);
      if (!made) throw driverError(D, 'INTERNAL', `snapshot '${name}' was taken but is not listed`);
      return made;
    },
  ).catch(async (e: unknown) => {
    throw await whenFull(kvm.store.dir(local), e);
  });
}

export async function snapshotRevert(kvm: Kvm, local: string, name: string, ctx: OpContext): Promise<WorkloadInfo> {
  const snap = (await listSnapshots(kvm, local, ctx.signal)).find((s) => s.name === name);
  if (!snap) throw driverError(D, 'NOT_FOUND', `no snapshot named '${name}'`);
  return withVm(
    kvm,
    local,
    'revert',
    ctx,
    async (def, q) => {
      await snaps.revertLive(q, def, snap, ctx);
      const status = (await q.execute<{ status: string }>('query-status')).status;
      const run = await kvm.store.runState(def.id);
      if (run.runDir) writeStatusHint(run.runDir, status);
      return kvm.infoOf(def);
    },
    async (def) => {
      await snaps.offline('-a', kvm.qemuImg, def, kvm.store.dir(def.id), name, ctx);
      return kvm.infoOf(def);
    },
  );
}

export async function snapshotDelete(kvm: Kvm, local: string, name: string, ctx: OpContext): Promise<void> {
  const snap = (await listSnapshots(kvm, local, ctx.signal)).find((s) => s.name === name);
  if (!snap) throw driverError(D, 'NOT_FOUND', `no snapshot named '${name}'`);
  await withVm(kvm, local, 'delete snapshot', ctx, (def, q) => snaps.deleteLive(q, def, name, ctx), (def) => snaps.offline('-d', kvm.qemuImg, def, kvm.store.dir(def.id), name, ctx));
}

/**
 * Live migration. `local`: a fresh QEMU on this host takes the VM over (the way to move a
 * running VM onto a new QEMU binary); `tcp:HOST:PORT`: a QEMU another NovaCron prepared
 * with `create … --incoming`. The source runs on until the stream completes; on failure or
 * cancel it simply keeps running.
 */
export async function migrate(kvm: Kvm, local: string, to: string, ctx: OpContext): Promise<WorkloadInfo> {
  if (to !== 'local' && !migrationUriSchema.safeParse(to).success) throw invalid('to', "must be 'local' or tcp:HOST:PORT", D);
  return onLive(kvm, local, 'migrate', ctx, ['running', 'paused'], async (def, src) => {
    const run = await kvm.store.runState(def.id);
    if (to !== 'local') {
      await runMigration(src, to, `migration of ${what(def)} to ${to}`, ctx);
      await kvm.store.patchRunState(def.id, { stopping: true, stopReason: `migrated to ${to}`, stoppedAt: new Date().toISOString() });
      // Through the connection we hold: the monitor serves one client, a second one would wait for this one.
      await src.execute('quit').catch(() => undefined);
      src.close();
      await terminate(run);
      if (run.runDir) await rm(run.runDir, { recursive: true, force: true });
      return kvm.infoOf(def);
    }
    const instance = (run.instance ?? 0) + 1;
    ctx.progress({ label: `starting the destination QEMU for ${what(def)}`, done: 0, unit: 'bytes' });
    await kvm.store.patchRunState(def.id, { migrating: { runDir: kvm.store.runDir(def.id, instance), instance, at: new Date().toISOString() } });
    // The source's cwd is its own runtime dir: a relative path to the sibling keeps the socket path short.
    const clearMarker = async () => {
      const { migrating: _m, ...rest } = await kvm.store.runState(def.id);
      await kvm.store.writeRunState(def.id, rest);
    };
    const dest = await spawnQemu(kvm.store, def, { binary: kvm.qemu, accel: run.accel ?? 'tcg', instance, incoming: `unix:${RUN_FILES.migration}`, skipForwards: true, signal: ctx.signal }).catch(
      async (e: unknown) => {
        await clearMarker();
        throw e;
      },
    );
    const destRun = { pid: dest.pid, startTicks: dest.startTicks, runDir: dest.runDir };
    let result;
    try {
      result = await runMigration(src, `unix:../${instance}/${RUN_FILES.migration}`, `migration of ${what(def)} to a new local QEMU`, ctx);
    } catch (e) {
      await terminate(destRun).catch(() => undefined);
      await rm(dest.runDir, { recursive: true, force: true });
      await clearMarker();
      throw e;
    }
    // The destination is the VM from here on; the source, paused in postmigrate, only has to go.
    const status = (await withQmp(qmpPath(destRun, true), (q) => q.execute<{ status: string }>('query-status'))).status;
    // The source goes with the same write that makes the destination the VM: killed right after it, the next look ends the source.
    const retiring = { pid: run.pid!, startTicks: run.startTicks!, ...(run.runDir ? { runDir: run.runDir } : {}) };
    await kvm.store.writeRunState(def.id, {
      ...destRun,
      instance,
      startedAt: new Date().toISOString(),
      ...(run.accel ? { accel: run.accel } : {}),
      lastStatus: status,
      retiring,
    });
    await src.execute('quit').catch(() => undefined);
    src.close();
    await terminate(run).catch(() => undefined);
    if (run.runDir) await rm(run.runDir, { recursive: true, force: true });
    const { retiring: _r, ...settled } = await kvm.store.runState(def.id);
    await kvm.store.writeRunState(def.id, settled);
    // Only now are the forwarded host ports free for the new QEMU to take.
    const failedForwards = await withQmp(qmpPath(destRun), async (q) => {
      const failed: string[] = [];
      for (const p of def.portForwards) {
        const out = await q.execute<string>('human-monitor-command', { 'command-line': `hostfwd_add net0 ${hostfwd(p)}` }).catch((e: Error) => e.message);
        if (out.trim()) failed.push(`${hostfwd(p)}: ${out.trim()}`);
      }
      return failed;
    });
    if (failedForwards.length) ctx.progress({ label: `warning: port forwards not restored: ${failedForwards.join('; ')}`, done: 0, unit: 'steps' });
    ctx.progress({
      label: `migrated: pid ${run.pid} → ${dest.pid}${result.downtimeMs !== undefined ? `, downtime ${result.downtimeMs} ms` : ''}`,
      done: result.transferredBytes ?? 1,
      total: result.transferredBytes ?? 1,
      unit: 'bytes',
    });
    return kvm.infoOf(def);
  });
}

/** Memory of a live VM through the virtio balloon (up to its boot size); anything while stopped, for the next start. */
export async function scale(kvm: Kvm, local: string, r: { memoryMB?: number; cpus?: number }, ctx: OpContext): Promise<WorkloadInfo> {
  const def = await kvm.load(local);
  const seen = await observe(kvm.store, def);
  const live = seen.state === 'running' || seen.state === 'paused';
  if (r.cpus !== undefined && (!Number.isInteger(r.cpus) || r.cpus < 1 || r.cpus > hostCpus().length)) {
    throw invalid('cpus', `must be a whole number 1…${hostCpus().length}`, D);
  }
  if (live) {
    if (r.cpus !== undefined && r.cpus !== def.cpus) throw driverError(D, 'NOT_SUPPORTED', `cpus: vCPU hot-plug is not supported; stop ${what(def)} to change its vCPUs`);
    if (r.memoryMB !== undefined && r.memoryMB > def.memoryMB) {
      throw driverError(D, 'NOT_SUPPORTED', `memoryMB: the balloon can only give back memory below the boot size (${def.memoryMB} MiB); stop ${what(def)} to grow it`);
    }
    if (r.memoryMB === undefined) return kvm.infoOf(def);
    const target = r.memoryMB;
    return onLive(kvm, local, 'scale', ctx, ['running', 'paused'], async (d, q) => {
      await q.execute('balloon', { value: target * MiB });
      return kvm.infoOf(d);
    });
  }
  return kvm.store.withLock(def.id, `scale by ${ctx.origin}`, what(def), async () => {
    const next: VmDefinition = { ...def, ...(r.memoryMB !== undefined ? { memoryMB: r.memoryMB } : {}), ...(r.cpus !== undefined ? { cpus: r.cpus } : {}) };
    await kvm.store.updateDefinition(next);
    return kvm.infoOf(next);
  });
}

/**
 * CPU and RSS of the QEMU process from its /proc stat (kept open while watched), disk
 * bytes and the balloon from QMP: over the monitor this process holds when it holds one
 * (one command; the balloon is kept from its events, see held.ts), else one short
 * connection to the query monitor. The VM's files are read through the store's
 * snapshot, which re-reads them only when one changed.
 */
export async function metrics(kvm: Kvm, local: string): Promise<RawSample> {
  const snap = await kvm.store.snapshot(local);
  if (!snap) throw driverError(D, 'NOT_FOUND', `no VM '${local}'`);
  const { def, run } = snap;
  const ts = Date.now();
  if (run.pid === undefined || run.startTicks === undefined || !run.runDir) return { ts, cpuNs: 0, memoryBytes: 0, source: 'procfs' };
  const st = readPinnedStat(kvm.qemuStats, run.pid, run.startTicks);
  if (!st) return { ts, cpuNs: 0, memoryBytes: 0, source: 'procfs' };
  const blockstats = (c: QmpClient) => c.execute<{ stats: { rd_bytes: number; wr_bytes: number } }[]>('query-blockstats', undefined, 2_000);
  const balloonOf = (c: QmpClient) => c.execute<{ actual: number }>('query-balloon', undefined, 2_000).then((b) => b.actual, () => undefined);
  const h = await kvm.held.get(run.runDir);
  const q = await (h
    ? (async () => {
        const blocks = await blockstats(h.q);
        if (h.balloon === undefined) {
          const b = await balloonOf(h.q);
          h.balloon ??= b ?? null;
        }
        return { blocks, balloon: h.balloon ?? undefined };
      })()
    : withQmp(qmpPath(run, true), async (c) => ({ blocks: await blockstats(c), balloon: await balloonOf(c) }), { timeoutMs: 2_000 })
  ).catch(() => undefined);
  const net = await guestNetBytes(join(run.runDir, RUN_FILES.agent));
  return {
    ts,
    cpuNs: ((st.utimeTicks + st.stimeTicks) * 1e9) / CLK_TCK,
    memoryBytes: st.rssPages * PAGE_SIZE,
    memoryLimitBytes: q?.balloon ?? def.memoryMB * MiB,
    ...(q ? { diskReadBytes: q.blocks.reduce((s, b) => s + b.stats.rd_bytes, 0), diskWriteBytes: q.blocks.reduce((s, b) => s + b.stats.wr_bytes, 0) } : {}),
    ...(net ? { netRxBytes: net.rx, netTxBytes: net.tx } : {}),
    source: `${q ? 'procfs + QMP' : 'procfs (QMP busy)'}${net ? ' + guest agent' : ''} (memory limit = balloon size)`,
  };
}

export async function consoleOf(kvm: Kvm, local: string): Promise<ConsoleEndpoint> {
  const def = await kvm.load(local);
  const run = await liveRun(kvm, def);
  if (!run) throw driverError(D, 'CONFLICT', `${what(def)} is not running: it has no screen`);
  return { kind: 'unix', path: join(run.runDir!, RUN_FILES.vnc) };
}

export async function terminal(kvm: Kvm, local: string, kind: 'exec' | 'serial' | undefined, signal: AbortSignal): Promise<TerminalSession> {
  if (kind === 'exec') throw driverError(D, 'NOT_SUPPORTED', 'a VM has no exec: open its serial console (kind serial)');
  const def = await kvm.load(local);
  return openSerialSession(
    kvm.store.dir(def.id),
    {
      socketPath: async () => {
        const run = await liveRun(kvm, def);
        return run ? join(run.runDir!, RUN_FILES.serial) : undefined;
      },
      logPath: kvm.store.file(def.id, 'serial.log'),
    },
    signal,
  );
}
