import { rmSync } from 'node:fs';
import { freemem, totalmem, cpus as hostCpus } from 'node:os';
import type { KvmCreateSpec } from '../../../../shared/drivers/kvm.js';
import type { WorkloadInfo } from '../../../../shared/model.js';
import { driverError, invalid } from '../../base/errors.js';
import { syncDir, syncFile } from '../../base/fsx.js';
import { isSameProcess } from '../../base/procfs.js';
import type { OpContext, StopOptions } from '../driver.js';
import { D, type Kvm } from './context.js';
import { checkDiskSpace, checkDiskSpecs, checkReadableFile, makeDisks } from './disks.js';
import { pendingReadsDone, type Held } from './held.js';
import type { QmpClient } from './qmp.js';
import { released, spawnQemu, terminate, what, type Observed } from './runtime.js';
import { hintStopping, writeStatusHint } from './status-hint.js';
import type { VmDefinition, VmRunState } from './store.js';

const MiB = 1024 * 1024;

/** os.cpus() reads /proc/cpuinfo and /proc/stat on every call; the count is all a create needs, once. */
let cpuCount: number | undefined;
const hostCpuCount = () => (cpuCount ??= hostCpus().length);

/** Everything only the host can answer: files exist, sizes fit, the machine type is known. */
async function checkCreate(kvm: Kvm, s: KvmCreateSpec, signal: AbortSignal) {
  const total = Math.floor(totalmem() / MiB);
  if (s.memoryMB > total) throw invalid('memoryMB', `${s.memoryMB} MiB is more than this host's ${total} MiB`, D);
  const n = hostCpuCount();
  if (s.cpus > n) throw invalid('cpus', `${s.cpus} vCPUs are more than this host's ${n} CPUs`, D);
  const host = await kvm.host();
  if (host.machines.size && !host.machines.has(s.machine)) {
    throw invalid('machine', `'${s.machine}' is not a machine type of this QEMU (see qemu-system-x86_64 -machine help)`, D);
  }
  if (s.accel === 'kvm' && host.kvmProblem) throw invalid('accel', `kvm is not usable here: ${host.kvmProblem}`, D);
  if (s.iso) await checkReadableFile('iso', s.iso);
  if (s.kernel) await checkReadableFile('kernel', s.kernel);
  if (s.initrd) await checkReadableFile('initrd', s.initrd);
  await checkDiskSpace(s.disks, kvm.store.base);
  return checkDiskSpecs(kvm.qemuImg, s.disks, signal);
}

export async function create(kvm: Kvm, s: KvmCreateSpec, ctx: OpContext): Promise<WorkloadInfo> {
  await kvm.store.ensure();
  const infos = await checkCreate(kvm, s, ctx.signal);
  const def = await kvm.store.create(
    {
      name: s.name,
      memoryMB: s.memoryMB,
      cpus: s.cpus,
      ...(s.iso ? { iso: s.iso } : {}),
      ...(s.kernel ? { kernel: s.kernel } : {}),
      ...(s.initrd ? { initrd: s.initrd } : {}),
      ...(s.append !== undefined ? { append: s.append } : {}),
      network: s.network,
      portForwards: s.portForwards,
      machine: s.machine,
      accel: s.accel,
    },
    ctx.origin,
    (dir, _id, defer) => makeDisks(kvm.qemuImg, s.disks, infos, dir, ctx, kvm.overlays, defer),
  );
  if (s.incoming) return start(kvm, def.id, ctx, s.incoming);
  if (s.start) return startOrUndo(kvm, def, ctx);
  return kvm.infoOf(def);
}

/**
 * create with start: one operation, as `docker run` and virt-install are (one round trip and
 * one answer for what the UI's form asks). A VM that cannot start is not kept: the caller
 * asked for a running VM and gets an error saying why, with nothing left to clean up.
 */
async function startOrUndo(kvm: Kvm, def: VmDefinition, ctx: OpContext): Promise<WorkloadInfo> {
  try {
    return await start(kvm, def.id, ctx);
  } catch (e) {
    // Not cancelled with the start: the removal must finish whatever stopped the start.
    await remove(kvm, def.id, { force: true }, { ...ctx, signal: new AbortController().signal }).catch(() => undefined);
    throw e;
  }
}

/** Start QEMU (or, with incoming, a QEMU waiting for a migration stream). Under the VM's lock: two racing starts never make two QEMUs. */
export async function start(kvm: Kvm, local: string, ctx: OpContext, incoming?: string): Promise<WorkloadInfo> {
  const def = await kvm.load(local);
  return kvm.store.withLock(def.id, `start by ${ctx.origin}`, what(def), async () => {
    const seen = await kvm.observe(def);
    if (seen.state === 'running' || seen.state === 'paused') throw driverError(D, 'CONFLICT', `${what(def)} is already ${seen.state} (pid ${seen.pid})`);
    const free = Math.floor(freemem() / MiB);
    if (def.memoryMB > free + 256) {
      // Not refused outright (the kernel overcommits and reclaims caches), but an admin should know why it may fail.
      ctx.progress({ label: `warning: ${def.memoryMB} MiB asked, ${free} MiB free`, done: 0, unit: 'steps' });
    }
    const { accel, why } = await kvm.accelFor(def);
    if (accel === 'kvm' && (await kvm.host()).kvmProblem) throw driverError(D, 'UNAVAILABLE', `${what(def)}: accel kvm: ${(await kvm.host()).kvmProblem}`);
    const prev = seen.run ?? (await kvm.store.runState(def.id));
    // A QEMU whose guest powered off may still be quitting: it must let go of the disks first.
    if (prev.pid !== undefined && prev.startTicks !== undefined) await terminate(prev, kvm.held);
    const instance = (prev.instance ?? 0) + 1;
    const runDir = kvm.store.runDir(def.id, instance);
    // Run-state writes of a start need no fsync: they describe a QEMU, which no power loss leaves running (and the
    // reader takes the empty file such a loss may leave as no state); a NovaCron killed mid-start only needs them
    // renamed into place, as they are before the spawn and before the lock is released.
    const fast = { syncDir: false, syncFile: false };
    await kvm.store.writeRunState(def.id, { instance: prev.instance ?? 0, spawning: { runDir, instance, accel, at: new Date().toISOString() } }, fast);
    ctx.progress({ label: `starting QEMU (${accel}: ${why})`, done: 0, total: 1, unit: 'steps' });
    let run: VmRunState | undefined;
    // The run state names the new QEMU as soon as its pid is known, written while QEMU starts up (its monitor
    // answers tens of ms later) rather than after: a rename then waits behind QEMU's own disk work.
    let recorded: Promise<unknown> | undefined;
    const onIdentified = (pid: number, startTicks: number) => {
      run = { pid, startTicks, startedAt: new Date().toISOString(), instance, runDir, accel, lastStatus: incoming ? 'inmigrate' : 'running' };
      recorded = kvm.store.writeRunState(def.id, run, fast);
      recorded.catch(() => undefined); // awaited below, on either path
    };
    let spawned;
    try {
      spawned = await spawnQemu(kvm.store, def, { binary: kvm.qemu, accel, instance, signal: ctx.signal, held: kvm.held, onIdentified, ...(incoming ? { incoming } : {}) });
    } catch (e) {
      // QEMU did not come up: its run state (if written meanwhile) is replaced once that write has landed.
      await recorded?.catch(() => undefined);
      await kvm.store.writeRunState(def.id, { instance }, fast);
      throw e;
    }
    if (!run || !recorded || run.pid !== spawned.pid) throw driverError(D, 'INTERNAL', `${what(def)}: QEMU pid ${spawned.pid} came up unrecorded`);
    await recorded;
    // A runtime dir holds a few sockets and a pidfile: its removal is a handful of syscalls, made synchronously.
    if (prev.runDir && prev.runDir !== spawned.runDir) rmSync(prev.runDir, { recursive: true, force: true });
    ctx.progress({ label: 'QEMU is up', done: 1, total: 1, unit: 'steps' });
    // QMP just answered (spawnQemu waits for it) and nothing ran since: its status is the one we started it in.
    return kvm.infoOf(def, { state: incoming ? 'paused' : 'running', status: run.lastStatus, pid: run.pid, run }, run);
  });
}

/**
 * Run states whose QEMU this process saw release (stopNow): QEMU closes its monitors one
 * after the other, so just after the held one closed, released() may not say so yet.
 */
const releasedNow = new WeakSet<VmRunState>();

/** Graceful: ACPI power button, then quit after timeoutSec. Force: quit at once (SIGKILL if QMP is stuck). */
export async function stopNow(kvm: Kvm, def: VmDefinition, opts: StopOptions, ctx: OpContext, reason?: string): Promise<VmRunState | undefined> {
  const seen = await kvm.observe(def);
  if (seen.state !== 'running' && seen.state !== 'paused') return seen.run;
  const run: VmRunState = { ...(seen.run ?? (await kvm.store.runState(def.id))), stopping: true, stoppedAt: new Date().toISOString(), ...(reason ? { stopReason: reason } : {}) };
  // QEMU's end must read as this stop in every process, never as a crash. Before QEMU is asked anything, its status
  // hint says so (one write in place; observe reads it once QEMU is gone); the run state saying so is renamed into
  // place and made durable while QEMU quits. Where the hint cannot be written, that rename comes first.
  const hinted = run.runDir !== undefined && hintStopping(run.runDir);
  const mark = () => kvm.store.writeRunState(def.id, run, { syncDir: false, syncFile: false });
  if (!hinted) await mark();
  const settle = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
  let durable = settle(
    (async () => {
      // Next turn: the quit below goes out within this one (terminate writes it on the held monitor).
      await new Promise((r) => setImmediate(r));
      if (hinted) await mark();
      await Promise.all([syncFile(kvm.store.file(def.id, 'state.json')), syncDir(kvm.store.dir(def.id))]);
    })(),
  );
  if (!opts.force) {
    ctx.progress({ label: 'ACPI power button pressed', done: 0, total: opts.timeoutSec, unit: 'steps' });
    const ended = await kvm.qmp(run, async (q) => {
      // A paused guest cannot hear the power button.
      if (seen.state === 'paused') await q.execute('cont');
      await q.execute('system_powerdown');
      const deadline = Date.now() + opts.timeoutSec * 1000;
      let tick = 0;
      while (Date.now() < deadline && !ctx.signal.aborted) {
        const status = (await q.execute<{ status: string }>('query-status')).status;
        if (status === 'shutdown') return true;
        // Woken by the guest's SHUTDOWN at once; the status is polled too, for a QEMU whose event we missed.
        await q.waitEvent((e) => e.event === 'SHUTDOWN', 100, ctx.signal);
        if (++tick % 10 === 0) ctx.progress({ label: 'waiting for the guest to power off', done: tick / 10, total: opts.timeoutSec, unit: 'steps' });
      }
      return false;
    }).catch(() => false);
    if (ended) {
      run.stopReason = 'the guest powered off';
      const first = durable;
      durable = first.then((e) => e ?? settle(kvm.store.writeRunState(def.id, run)));
      await durable;
    } else ctx.progress({ label: `the guest did not power off within ${opts.timeoutSec}s: quitting QEMU`, done: opts.timeoutSec, total: opts.timeoutSec, unit: 'steps' });
  }
  // 'released': QEMU let go of the disks and ports, and its exit is a few ms of teardown away. The VM is stopped now
  // (every process reads it so, see released()); what needs the process gone waits for it (start and delete, in
  // terminate), and its runtime dir goes then, once QEMU removed its own pidfile and sockets.
  const ended = await terminate(run, kvm.held, { untilReleased: true });
  if (ended === 'released') releasedNow.add(run);
  const failed = await durable;
  if (failed) throw failed;
  // A few sockets, a pidfile and the hint: removed once the run state says stopping for good.
  if (ended === 'gone' && run.runDir) rmSync(run.runDir, { recursive: true, force: true });
  return run;
}

export async function stop(kvm: Kvm, local: string, opts: StopOptions, ctx: OpContext): Promise<WorkloadInfo> {
  const def = await kvm.load(local);
  return kvm.store.withLock(def.id, `stop by ${ctx.origin}`, what(def), async () => {
    const run = await stopNow(kvm, def, opts, ctx);
    // QEMU is gone or let go of everything (stopNow waited for that): the state follows from the run state just written.
    if (run && releasedNow.has(run)) return kvm.infoOf(def, { state: 'stopped', ...(run.stopReason ? { exit: { reason: run.stopReason } } : {}), run }, run);
    return kvm.infoOf(def, await kvm.observe(def, run), run);
  });
}

/**
 * A QMP command on a live VM, under its lock; CONFLICT when it is not in one of the states the command needs.
 * fast: tried first on the connection this process holds, before any look at QEMU's status; undefined hands over to the usual path.
 */
export async function onLive<T>(
  kvm: Kvm,
  local: string,
  op: string,
  ctx: OpContext,
  states: ('running' | 'paused')[],
  fn: (def: VmDefinition, q: QmpClient, run: VmRunState, seen: Observed) => Promise<T>,
  fast?: (def: VmDefinition, run: VmRunState, h: Held) => Promise<T | undefined>,
): Promise<T> {
  const def = await kvm.load(local);
  return kvm.store.withLock(def.id, `${op} by ${ctx.origin}`, what(def), async () => {
    if (fast) {
      const run = await kvm.store.runState(def.id);
      const plain = run.pid !== undefined && run.startTicks !== undefined && run.runDir && !run.spawning && !run.migrating && !run.retiring && !run.stopping;
      const h = plain && (await isSameProcess(run.pid!, run.startTicks!)) ? await kvm.held.get(run.runDir!) : undefined;
      const done = h ? await fast(def, run, h) : undefined;
      if (done !== undefined) return done;
    }
    const seen = await kvm.observe(def);
    if (!states.includes(seen.state as 'running')) throw driverError(D, 'CONFLICT', `${what(def)} is ${seen.state}, not ${states.join(' or ')}`);
    const run = seen.run ?? (await kvm.store.runState(def.id));
    return kvm.qmp(run, (q) => fn(def, q, run, seen), { timeoutMs: 10_000, signal: ctx.signal });
  });
}

/**
 * A pause on the held connection, when it knows the guest runs or does not know the status (the first after a start,
 * say): stop is sent at once, as a bare client would, without the usual path's look at the VM. The STOP event QEMU
 * sends before its answer says the guest was running; without it nothing changed (stop on a stopped guest is a no-op)
 * and the usual path says why not. Not for a QEMU waiting for a migration stream, where stop would change what it does
 * once the stream is in.
 */
async function pauseUnasked(kvm: Kvm, def: VmDefinition, run: VmRunState, h: Held): Promise<WorkloadInfo | undefined> {
  if (h.asking || run.lastStatus === 'inmigrate') return undefined;
  await pendingReadsDone(); // events already sent are read first (see heldStatus)
  if (h.status !== undefined && h.status !== 'running') return undefined; // known otherwise: the usual path says why not
  const before = h.changes;
  let stopped = false;
  const sub = h.q.onEvent((e) => {
    if (e.event === 'STOP') stopped = true;
  });
  try {
    await h.q.execute('stop', undefined, 10_000);
  } finally {
    sub.dispose();
  }
  if (!stopped) return undefined;
  // The STOP this stop caused and nothing else since: the connection knows the status again.
  if (h.changes === before + 1) h.status = 'paused';
  writeStatusHint(run.runDir!, 'paused');
  return kvm.infoOf(def, { state: 'paused', status: 'paused', pid: run.pid!, run }, run);
}

/**
 * A resume on the held connection when it knows the guest is plainly paused (its status kept by QEMU's events since it
 * was last asked): cont is sent without the usual path's look at the VM, which would read the same status from the
 * connection. Its RESUME event makes the connection's status running again. Any other status: the usual path.
 */
async function resumeKnown(kvm: Kvm, def: VmDefinition, run: VmRunState, h: Held): Promise<WorkloadInfo | undefined> {
  if (h.asking) return undefined;
  await pendingReadsDone(); // events already sent are read first (see heldStatus)
  if (h.status !== 'paused') return undefined;
  await h.q.execute('cont', undefined, 10_000);
  writeStatusHint(run.runDir!, 'running');
  return kvm.infoOf(def, { state: 'running', status: 'running', pid: run.pid!, run }, run);
}

export async function setRunning(kvm: Kvm, local: string, ctx: OpContext, pause: boolean): Promise<WorkloadInfo> {
  return onLive(
    kvm,
    local,
    pause ? 'pause' : 'resume',
    ctx,
    [pause ? 'running' : 'paused'],
    async (def, q, run, seen) => {
      const h = run.runDir ? await kvm.held.get(run.runDir) : undefined;
      const held = h?.q === q ? h : undefined;
      const changes = held?.changes;
      await q.execute(pause ? 'stop' : 'cont');
      // From plain running or paused, stop and cont answer once the vCPUs are stopped or running again: the
      // status is known without asking. From any other status (inmigrate, io-error…) QEMU is asked.
      const plain = seen.status === (pause ? 'running' : 'paused');
      const status = plain ? (pause ? 'paused' : 'running') : (await q.execute<{ status: string }>('query-status')).status;
      // The held connection saw the STOP this stop caused and nothing else since: it may know the status again.
      if (held && pause && plain && held.changes === (changes ?? 0) + 1) held.status = status;
      // No durable write: QEMU is the truth for its run status (a crash that loses this ends QEMU too); the
      // hint only serves a reader that finds every monitor busy.
      if (run.runDir) writeStatusHint(run.runDir, status);
      return kvm.infoOf(def, plain ? { state: pause ? 'paused' : 'running', status, ...(run.pid !== undefined ? { pid: run.pid } : {}), run } : undefined, run);
    },
    (def, run, h) => (pause ? pauseUnasked(kvm, def, run, h) : resumeKnown(kvm, def, run, h)),
  );
}

export async function reboot(kvm: Kvm, local: string, ctx: OpContext): Promise<WorkloadInfo> {
  return onLive(kvm, local, 'reboot', ctx, ['running'], async (def, q) => {
    await q.execute('system_reset');
    return kvm.infoOf(def);
  });
}

export async function remove(kvm: Kvm, local: string, opts: { force: boolean }, ctx: OpContext): Promise<void> {
  const def = await kvm.load(local);
  await kvm.store.withLock(def.id, `delete by ${ctx.origin}`, what(def), async () => {
    const seen = await kvm.observe(def);
    let run = seen.run ?? (await kvm.store.runState(def.id));
    if (seen.state === 'running' || seen.state === 'paused') {
      if (!opts.force) throw driverError(D, 'CONFLICT', `${what(def)} is ${seen.state}: stop it first, or delete with force`);
      run = (await stopNow(kvm, def, { force: true, timeoutSec: 0 }, ctx)) ?? (await kvm.store.runState(def.id));
    }
    const alive = run.pid !== undefined && run.startTicks !== undefined && (await isSameProcess(run.pid, run.startTicks));
    const letGo = releasedNow.has(run) || (alive && (await released(run)));
    if (alive && !letGo) {
      throw driverError(D, 'INTERNAL', `${what(def)}: QEMU pid ${run.pid} is still alive; not deleting its disks under it`);
    }
    // The run dirs go with it (VmStore.removeOutside), under the lock. A QEMU that released its disks (a stop just
    // now) may still be exiting: its files go meanwhile, and the delete ends once it has (SIGKILL if it lingers).
    await Promise.all([kvm.store.remove(def), alive ? terminate(run, undefined, { released: letGo }) : undefined]);
  });
}
