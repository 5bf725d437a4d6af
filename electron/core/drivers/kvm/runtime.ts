import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExitInfo, WorkloadState } from '../../../../shared/model.js';
import { driverError } from '../../base/errors.js';
import { PendingExits } from '../../base/pending-exits.js';
import { isSameProcess, readStat } from '../../base/procfs.js';
import { connectUnix } from '../../base/unix-socket.js';
import { hostfwd, qemuArgs, RUN_FILES } from './args.js';
import { heldStatus, type HeldMonitors } from './held.js';
import { withQmp } from './qmp.js';
import { hintedStopping, statusHint, writeStatusHint } from './status-hint.js';
import type { VmDefinition, VmRunState, VmStore } from './store.js';

const D = 'kvm';
export const what = (def: Pick<VmDefinition, 'name'>) => `VM '${def.name}'`;
export const qmpPath = (run: Pick<VmRunState, 'runDir'>, query = false) => join(run.runDir!, query ? RUN_FILES.qmpQuery : RUN_FILES.qmp);

export interface Observed {
  state: WorkloadState;
  exit?: ExitInfo;
  /** QEMU's own run status when it is alive: running, paused, inmigrate, postmigrate… */
  status?: string;
  pid?: number;
  /** The run state this was reconciled from, so a caller need not read it again. */
  run?: VmRunState;
}

/** QEMU run statuses → our states. A guest that stopped on an error is still a live QEMU: paused, not crashed. */
function stateOf(status: string): WorkloadState {
  switch (status) {
    case 'running':
    case 'finish-migrate':
      return 'running';
    case 'shutdown':
      return 'stopped';
    default:
      return 'paused'; // paused, suspended, inmigrate, postmigrate, prelaunch, io-error, internal-error, guest-panicked, save-vm, restore-vm, debug, watchdog
  }
}

/** QEMU's run status through the held monitor or the query monitor; undefined when it does not answer in time. */
export async function queryStatus(run: VmRunState, timeoutMs = 2_000, held?: HeldMonitors): Promise<string | undefined> {
  try {
    const h = held && run.runDir ? await held.get(run.runDir) : undefined;
    if (h) return await heldStatus(h, timeoutMs);
    return await withQmp(qmpPath(run, true), async (q) => (await q.execute<{ status: string }>('query-status', undefined, timeoutMs)).status, { timeoutMs });
  } catch {
    return undefined;
  }
}

/**
 * The true state of a VM, reconciled from files any NovaCron process reads: the QEMU
 * identity in state.json checked against /proc, QEMU's own status, and how it ended.
 */
export async function observe(store: VmStore, def: VmDefinition, held?: HeldMonitors, known?: VmRunState): Promise<Observed> {
  let run = known ?? (await store.runState(def.id));
  // A start in progress (its lock held by a live process, this one's other operations included) is left alone.
  if (run.pid === undefined && run.spawning && (store.holding(def.id) || !(await store.busy(def.id)))) run = await adoptOrphan(store, def, run);
  if (run.retiring && !(await store.busy(def.id))) run = await retire(store, def, run);
  if (run.pid === undefined || run.startTicks === undefined) return { state: 'stopped', run };
  if (await isSameProcess(run.pid, run.startTicks)) {
    // Quit and past its cleanup (disks and ports let go): only its exit is left, and no monitor would answer.
    const stopped = (): Observed => ({ state: 'stopped', ...(run.stopReason ? { exit: { reason: run.stopReason } } : {}), run });
    if (await released(run)) return stopped();
    if (run.migrating && !(await store.busy(def.id))) {
      const now = await reconcileMigration(store, def, run);
      if (now !== run) return observe(store, def, held);
    }
    const asked = await queryStatus(run, 2_000, held);
    // QEMU closes its monitors one after the other: one may have gone silent just before the query monitor refused.
    if (asked === undefined && (await released(run))) return stopped();
    const status = asked ?? statusHint(run) ?? run.lastStatus ?? 'running';
    if (status === 'shutdown') {
      // The guest powered itself off; QEMU waits only because of -no-shutdown. A clean stop, whoever sees it first.
      await store.patchRunState(def.id, { stopping: true, stopReason: 'the guest powered off', stoppedAt: new Date().toISOString() });
      void withQmp(qmpPath(run), (q) => q.execute('quit'), { timeoutMs: 2_000 }).catch(() => undefined);
      return { state: 'stopped', exit: { reason: 'the guest powered off', code: 0 }, status };
    }
    return { state: stateOf(status), status, pid: run.pid, run };
  }
  // A QEMU asked to quit by a stop whose run state is still on its way (stopNow) left the hint saying so.
  if (run.stopping || hintedStopping(run)) return { state: 'stopped', ...(run.stopReason ? { exit: { reason: run.stopReason } } : {}), run };
  await exitRecords.settled(run.pid);
  const rec = await store.exitRecord(def.id);
  if (rec && rec.pid === run.pid && rec.startTicks === run.startTicks) {
    const { pid: _p, startTicks: _s, ...exit } = rec;
    return { state: 'crashed', exit };
  }
  return {
    state: 'crashed',
    exit: { reason: 'QEMU ended without a stop from NovaCron; its exit status is unknown (no NovaCron process was its parent when it ended)' },
  };
}

/**
 * A NovaCron killed between spawning QEMU and recording it leaves a live QEMU that only
 * its pidfile knows of. Adopt it (when its command line says it is this VM), or forget the attempt.
 */
async function adoptOrphan(store: VmStore, def: VmDefinition, run: VmRunState): Promise<VmRunState> {
  const s = run.spawning!;
  const pid = Number((await readFile(join(s.runDir, RUN_FILES.pidfile), 'utf8').catch(() => '')).trim());
  const st = pid > 0 ? await readStat(pid) : undefined;
  const cmdline = st ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
  if (st && st.state !== 'Z' && cmdline.includes(`process=nc-${def.id}`)) {
    const { spawning: _s, ...rest } = run;
    const adopted: VmRunState = { ...rest, pid, startTicks: st.startTicks, runDir: s.runDir, instance: s.instance, accel: s.accel, startedAt: s.at };
    // Read again just before writing: a start that finished meanwhile (and whatever followed it) is never overwritten.
    const now = await store.runState(def.id);
    if (now.pid !== undefined || now.spawning?.at !== s.at) return now;
    await store.writeRunState(def.id, adopted);
    return adopted;
  }
  // Only forget a young attempt once it is clearly over: another process may be starting it right now.
  if (Date.now() - Date.parse(s.at) > 60_000) {
    const { spawning: _s, ...rest } = run;
    await store.writeRunState(def.id, rest);
    return rest;
  }
  return run;
}

/** End the source QEMU of a local migration whose NovaCron died before it could (the destination is the VM already). */
async function retire(store: VmStore, def: VmDefinition, run: VmRunState): Promise<VmRunState> {
  const old = run.retiring!;
  if (await isSameProcess(old.pid, old.startTicks)) {
    // Only a QEMU of this VM: a pid reused by something else is never killed.
    const cmdline = await readFile(`/proc/${old.pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(`process=nc-${def.id}`)) await terminate({ pid: old.pid, startTicks: old.startTicks, ...(old.runDir ? { runDir: old.runDir } : {}) });
  }
  if (old.runDir && old.runDir !== run.runDir) await rm(old.runDir, { recursive: true, force: true });
  const { retiring: _r, ...rest } = run;
  await store.writeRunState(def.id, rest);
  return rest;
}

/** The live QEMU of this VM whose pidfile is in runDir, if any. */
async function qemuIn(def: VmDefinition, runDir: string): Promise<{ pid: number; startTicks: number } | undefined> {
  const pid = Number((await readFile(join(runDir, RUN_FILES.pidfile), 'utf8').catch(() => '')).trim());
  const st = pid > 0 ? await readStat(pid) : undefined;
  if (!st || st.state === 'Z') return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes(`process=nc-${def.id}`) ? { pid, startTicks: st.startTicks } : undefined;
}

/**
 * A local migration whose NovaCron died midway. QEMU finishes a started migration by
 * itself: if the source handed over (postmigrate), the destination is the VM now and the
 * source goes; otherwise the destination is dropped and the source stays.
 */
async function reconcileMigration(store: VmStore, def: VmDefinition, run: VmRunState): Promise<VmRunState> {
  const m = run.migrating!;
  const { migrating: _m, ...rest } = run;
  const dest = await qemuIn(def, m.runDir);
  const status = await queryStatus(run);
  if (status === 'postmigrate' && dest) {
    const destRun: VmRunState = { pid: dest.pid, startTicks: dest.startTicks, runDir: m.runDir, instance: m.instance, startedAt: m.at, ...(run.accel ? { accel: run.accel } : {}) };
    await store.writeRunState(def.id, destRun);
    await terminate(run).catch(() => undefined);
    if (run.runDir) await rm(run.runDir, { recursive: true, force: true });
    // The destination was started without the host port forwards the source held.
    await withQmp(qmpPath(destRun), async (q) => {
      for (const p of def.portForwards) await q.execute('human-monitor-command', { 'command-line': `hostfwd_add net0 ${hostfwd(p)}` }).catch(() => undefined);
    }).catch(() => undefined);
    return destRun;
  }
  if (status === 'postmigrate' || status === 'finish-migrate') return run; // handing over right now: look again later
  if (dest) await terminate({ ...dest, runDir: m.runDir }).catch(() => undefined);
  await rm(m.runDir, { recursive: true, force: true });
  await store.writeRunState(def.id, rest);
  return rest;
}

export interface Spawned {
  pid: number;
  startTicks: number;
  runDir: string;
  instance: number;
}

/**
 * Start QEMU for a VM, detached (its own session, stdio to qemu.log) so it outlives this
 * process; while this process lives it is QEMU's parent and records how it ends. Resolves
 * once QMP answers; when QEMU refuses to start, rejects with QEMU's own stderr.
 */
export async function spawnQemu(
  store: VmStore,
  def: VmDefinition,
  opts: {
    binary: string;
    accel: 'kvm' | 'tcg';
    incoming?: string;
    skipForwards?: boolean;
    instance: number;
    signal: AbortSignal;
    held?: HeldMonitors;
    /** Called once the child is known by pid and start ticks, while QEMU is still starting up. */
    onIdentified?: (pid: number, startTicks: number) => void;
  },
): Promise<Spawned> {
  const runDir = store.runDir(def.id, opts.instance);
  // Synchronous: a few metadata syscalls on a dir that is usually absent, cheaper than threadpool trips.
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const log = store.file(def.id, 'qemu.log');
  const logStart = statSync(log, { throwIfNoEntry: false })?.size ?? 0;
  const args = qemuArgs(def, { vmDir: store.dir(def.id), accel: opts.accel, ...(opts.incoming ? { incoming: opts.incoming } : {}), ...(opts.skipForwards ? { skipForwards: true } : {}) });
  // Node's own spawn (execa costs ~2 ms of CPU more per call, base/run.ts): QEMU's stdout and stderr append to
  // qemu.log through one descriptor, closed here once the child has its copy.
  const out = openSync(log, 'a', 0o644);
  let child: ChildProcess;
  try {
    child = spawn(opts.binary, args, { cwd: runDir, detached: true, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  const failed = new Promise<string>((resolve) => child.once('error', (e) => resolve(e.message)));
  const refused = async (why: string) => {
    const text = (await readFrom(log, logStart)).trim().split('\n').slice(-8).join(' / ');
    return driverError(D, 'UNAVAILABLE', `${what(def)}: QEMU refused to start (${why})${text ? `: ${text}` : ''}`);
  };
  const pid = child.pid;
  if (pid === undefined) throw driverError(D, 'UNAVAILABLE', `${what(def)}: cannot run ${opts.binary}: ${await failed}`);
  child.unref();
  // The status hint's file, blank (no hint), made while QEMU starts: a pause or resume then overwrites it in place
  // instead of creating it, a journalled metadata change that can wait behind QEMU's own flush of the disks.
  writeStatusHint(runDir, '');
  let ended: { code?: number; signal?: string } | undefined;
  // Aborts the wait for QMP below the moment QEMU ends, instead of at a timeout.
  const endedNow = new AbortController();
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      ended = { ...(code !== null ? { code } : {}), ...(signal ? { signal } : {}) };
      childExits.delete(pid);
      endedNow.abort();
      resolve();
    }),
  );
  childExits.set(pid, exited);
  const st = await readStat(pid);
  const recorded = exited.then(async () => {
    if (!st || !ended) return;
    const reason = ended.signal ? `QEMU was killed by ${ended.signal}` : `QEMU exited with status ${ended.code}`;
    await store
      .writeExitRecord(def.id, { pid, startTicks: st.startTicks, ...ended, reason, at: new Date().toISOString() })
      .catch(() => undefined);
  });
  exitRecords.track(pid, recorded);
  if (!st) throw await refused('it ended at once');
  opts.onIdentified?.(pid, st.startTicks);
  if (opts.held) {
    // Connect the held monitor as soon as its socket appears (retried every 1 ms, as a bare client would): QMP answering is QEMU being up.
    const signal = AbortSignal.any([opts.signal, endedNow.signal]);
    const h = await opts.held.get(runDir, 60_000, signal);
    if (h) return { pid, startTicks: st.startTicks, runDir, instance: opts.instance };
    if (endedNow.signal.aborted) await exited;
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (ended) throw await refused(ended.signal ? `killed by ${ended.signal}` : `exit status ${ended.code}`);
    if (opts.signal.aborted) {
      process.kill(pid, 'SIGKILL');
      opts.signal.throwIfAborted();
    }
    const status = await queryStatus({ runDir }, 1_000);
    if (status !== undefined) break;
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      throw await refused('QMP did not answer within 60 s');
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { pid, startTicks: st.startTicks, runDir, instance: opts.instance };
}

async function readFrom(path: string, offset: number): Promise<string> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return '';
  try {
    const size = (await fh.stat()).size;
    const len = Math.min(size - offset, 64 * 1024);
    if (len <= 0) return '';
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Exits of the QEMUs this process spawned (it is their parent), to wait on without polling. */
const childExits = new Map<number, Promise<void>>();

/** The exit records of the QEMUs this process spawned, until written: see PendingExits. */
const exitRecords = new PendingExits();

/**
 * Whether that QEMU (pid + start ticks) is gone within ms: on its exit event when this
 * process is its parent, else /proc polled every 1, 2, 4… up to 25 ms (QEMU is usually
 * gone within a millisecond or two of closing its monitor, so a fixed 25 ms sleep was most of a stop).
 */
export async function qemuGone(pid: number, startTicks: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  let pause = 1;
  for (;;) {
    if (!(await isSameProcess(pid, startTicks))) return true;
    const left = until - Date.now();
    if (left <= 0) return false;
    const exit = childExits.get(pid);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, exit ? left : Math.min(pause, left));
      void exit?.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    pause = Math.min(pause * 2, 25);
  }
}

/**
 * Whether a QEMU asked to stop (its run state marked stopping) is past letting go of its
 * disks and ports. QEMU's cleanup on quit closes the disks (flushed, image locks dropped),
 * then the network (host ports), then its monitors and their listening sockets; after
 * that only its exit is left, a few ms of teardown. So a refused connect to its query
 * monitor (socket closed or removed) says it released. One attempt, no retry: the
 * socket of a QEMU recorded as started existed once.
 */
export async function released(run: VmRunState): Promise<boolean> {
  if (!run.stopping || !run.runDir) return false;
  const sock = await connectUnix(qmpPath(run, true), 1_000).catch((e: NodeJS.ErrnoException) => e);
  if (!(sock instanceof Error)) {
    sock.destroy();
    return false;
  }
  return sock.code === 'ENOENT' || sock.code === 'ECONNREFUSED';
}

/**
 * End a QEMU: quit through QMP (the held connection when this process has it), SIGKILL
 * when QMP does not answer or it lingers. Resolves 'gone' once the process has ended; with
 * untilReleased, 'released' as soon as QEMU closed the held monitor after answering the
 * quit (see released()). A QEMU that had already released (or that the caller saw release:
 * released) is only waited for.
 */
export async function terminate(run: VmRunState, held?: HeldMonitors, opts: { untilReleased?: boolean; released?: boolean } = {}): Promise<'gone' | 'released'> {
  const { pid, startTicks } = run as { pid: number; startTicks: number };
  if (!(await isSameProcess(pid, startTicks))) return 'gone';
  // The stopper itself (untilReleased) has just seen this QEMU answer: no need to ask whether it released.
  if (opts.released || (!opts.untilReleased && (await released(run)))) {
    if (await qemuGone(pid, startTicks, 5_000)) return 'gone';
  } else if (run.runDir) {
    const h = held ? await held.get(run.runDir) : undefined;
    if (h) {
      const answered = await h.q.execute('quit', undefined, 3_000).then(
        () => true,
        () => false,
      );
      // QEMU closes its monitors as it exits: the closed socket is the first sign, with no polling.
      const closed = await Promise.race([h.gone.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 3_000).unref())]);
      // Only QEMU's own close after its answer to quit says that it ran its cleanup up to the monitors (a close
      // of ours, or a quit never answered, says nothing about its disks).
      if (opts.untilReleased && answered && closed && h.q.endedByPeer) return 'released';
    } else {
      await withQmp(qmpPath(run), (q) => q.execute('quit', undefined, 3_000), { timeoutMs: 3_000 }).catch(() => undefined);
    }
    if (await qemuGone(pid, startTicks, 5_000)) return 'gone';
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'gone';
  }
  if (!(await qemuGone(pid, startTicks, 5_000))) throw driverError(D, 'TIMEOUT', `QEMU pid ${pid} survived SIGKILL for 5 s`);
  return 'gone';
}
