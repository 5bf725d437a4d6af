import { stat } from 'node:fs/promises';
import type { ContainerdCreateSpec, KataCreateSpec, SandboxRuntime } from '../../../../shared/drivers/containerd.js';
import type { WorkloadInfo } from '../../../../shared/model.js';
import { removeTree } from '../../base/fsx.js';
import { driverError, invalid } from '../../base/errors.js';
import { withLockIn } from '../../base/lock.js';
import type { OpContext, StopOptions } from '../driver.js';
import { isAlreadyExists, isGrpcStatus, isNotFound } from './api/client.js';
import { jsonAny, parseJsonAny, SPEC_TYPE_URL } from './api/codec.js';
import type { Container, Process } from './api/messages.js';
import { DEFINITION_EXTENSION, DEFINITION_TYPE_URL, LABEL, localOf, lockPath, parseLocal, workloadDir, type Family, type Target } from './context.js';
import { taskStdio } from './stdio.js';
import { ensureUnpacked, getImage, resolveImage, type ResolvedImage } from './images/images.js';
import { ensureNamespace, withLease } from './lease.js';
import { sweepLeftLeases } from './lease-release.js';
import type { Runtimes } from './runtimes.js';
import { runtimeFor } from './runtimes.js';
import { generateSpec, resourcesOf, runFieldsOf, type OciSpec } from './spec.js';
import { forgetSeen, see, seen } from './sightings.js';
import { definitionOf, getContainer, getTask, observeOwn, sandboxOf, toInfo, type Definition } from './workloads.js';
import { status as grpcStatus } from '@grpc/grpc-js';

const SIGTERM = 15;
const SIGKILL = 9;

const what = (f: Family, t: Target) => `${f.profile.id} workload '${t.id}'`;

/**
 * One operation at a time per workload, across every NovaCron process. Tracked once the
 * lock is ours, so the event watcher reads its events once it has ended (events.ts).
 */
export function locked<T>(f: Family, t: Target, op: string, fn: () => Promise<T>): Promise<T> {
  return withLockIn(lockPath(f, ''), `${t.namespace}--${t.id}`, op, what(f, t), () => f.ops.track(localOf(f, t.namespace, t.id), fn()), 0o700);
}

type Observed = Awaited<ReturnType<typeof observeOwn>>;

/**
 * An operation on one of this driver's workloads: the lock first, then the container and
 * its task read under it (the two reads at once), so what fn decides on cannot change
 * under it by another NovaCron process.
 */
export async function lockedOwn<T>(f: Family, local: string, op: string, signal: AbortSignal, fn: (o: Observed) => Promise<T>): Promise<T> {
  const t = parseLocal(f, local);
  // Not ours to change: observeOwn says why, with no lock taken for it.
  if (!t.own) await observeOwn(f, local, signal);
  return locked(f, t, op, async () => {
    const o = await observeOwn(f, local, signal);
    see(f, o.t, o.c, o.task);
    return fn(o);
  });
}

/**
 * Pause or resume. The engine checks the task's state itself (containerd refuses "cannot pause
 * a paused container", "task … not found"), so when this process read the container under
 * its lock lately (sightings.ts), that sighting says whose it is and the call goes at once;
 * only a refusal is read afresh, to answer why in the contract's words. Kata sandboxes,
 * which get to the state after the answer, and workloads not seen lately take the full path.
 */
export async function freezeOwn(f: Family, local: string, want: 'PAUSED' | 'RUNNING', op: string, signal: AbortSignal): Promise<WorkloadInfo> {
  const full = () =>
    lockedOwn(f, local, op, signal, async (o) => {
      const task = await freeze(f, o.t, want, o);
      see(f, o.t, o.c, task);
      return toInfo(f, o.t, o.c, task);
    });
  const t = parseLocal(f, local);
  const hit = t.own ? seen(f, t) : undefined;
  if (!hit || sandboxOf(f, hit.c) === 'kata') return full();
  let refused = false;
  const info = await locked(f, t, op, async () => {
    try {
      await f.client.call(want === 'PAUSED' ? 'tasks.Pause' : 'tasks.Resume', { container_id: t.id }, { namespace: t.namespace, signal });
    } catch (e) {
      if (isGrpcStatus(e, grpcStatus.UNAVAILABLE) || isGrpcStatus(e, grpcStatus.CANCELLED)) throw e;
      refused = true;
      return undefined;
    }
    const task = hit.task ? { ...hit.task, status: want } : await getTask(f, t, signal);
    see(f, t, hit.c, task);
    return toInfo(f, t, hit.c, task);
  });
  // Refused: whose it is and what state it is in, read afresh under the lock, say why (or it is tried once more).
  if (refused) return full();
  return info!;
}

/** Set or remove (undefined) one label; containerd answers with the updated record. */
async function setLabel(f: Family, t: Target, key: string, value: string | undefined): Promise<Container | undefined> {
  // A field-mask path without a value removes the label.
  const { container } = await f.client.call(
    'containers.Update',
    { container: { id: t.id, labels: value === undefined ? {} : { [key]: value } }, update_mask: { paths: [`labels.${key}`] } },
    { namespace: t.namespace },
  );
  return container ?? undefined;
}

export async function createWorkload(f: Family, s: ContainerdCreateSpec | KataCreateSpec, runtimes: Runtimes, ctx: OpContext): Promise<WorkloadInfo> {
  const D = f.profile.id;
  const runtime: SandboxRuntime = s.runtime ?? f.profile.defaultRuntime;
  if (!f.profile.runtimes.includes(runtime)) {
    throw invalid('runtime', `the ${D} driver runs ${f.profile.runtimes.join(' or ')}${runtime === 'runsc' ? '; gVisor runs under --driver containerd --runtime runsc' : ''}`, D);
  }
  if (!runtimes[runtime].available) throw invalid('runtime', `${runtime} is not available here: ${runtimes[runtime].reason}`, D);
  for (const [i, m] of s.mounts.entries()) {
    if (!(await stat(m.source).catch(() => undefined))) throw invalid(`mounts.${i}.source`, `${m.source} does not exist on this host`, D);
  }
  await ensureNamespace(f);
  const t: Target = { namespace: f.client.namespace, id: s.name, own: true };
  const exists = () => driverError(D, 'CONFLICT', `a container named '${t.id}' already exists in namespace ${t.namespace}`);
  /** The image, its spec and our definition: reads only, so they start while the lock is taken. */
  const plan = async () => {
    const image = await getImage(f, s.image, { signal: ctx.signal });
    if (!image) {
      throw invalid('image', `no image '${s.image}' in containerd namespace ${f.client.namespace}: import it first (novacron images import --driver ${D} FILE --name ${s.image})`, D);
    }
    const resolved = await resolveImage(f, image, { signal: ctx.signal });
    const spec = generateSpec({
      namespace: t.namespace,
      id: t.id,
      image: resolved.config,
      ...runFieldsOf(s),
    });
    if (spec.process.args.length === 0) throw invalid('cmd', `image '${s.image}' has no default command: give one`, D);
    const def: Definition = {
      version: 1,
      image: s.image,
      ...runFieldsOf(s),
      labels: s.labels,
      runtime,
    };
    return { resolved, spec, def, rt: await runtimeFor(f, runtime) };
  };

  // The first create of this process sweeps up leases its earlier runs left, as the first lease would.
  sweepLeftLeases(f);
  const planned = plan();
  planned.catch(() => undefined); // awaited under the lock, unless the lock is refused
  return locked(f, t, `create by ${ctx.origin}`, async () => {
    const { resolved, spec, def, rt } = await planned;
    // The record first, then its snapshot, and no lease: once the record names the snapshot
    // key, containerd's garbage collector keeps whatever snapshot comes to have it. That is
    // two writes to containerd's database instead of four (a lease made and released around
    // them), and the name is claimed before any snapshot is touched. A record left without
    // its snapshot (this process killed in between) is what a half-done delete leaves too:
    // it lists as stopped, and a delete removes it.
    let made: Container | null | undefined;
    try {
      ({ container: made } = await f.client.call('containers.Create', {
        container: {
          id: t.id,
          image: s.image,
          labels: { ...s.labels, [LABEL.driver]: D, [LABEL.runtime]: runtime, [LABEL.createdBy]: ctx.origin },
          runtime: { name: rt.name, ...(rt.options ? { options: rt.options } : {}) },
          spec: jsonAny(SPEC_TYPE_URL, spec),
          snapshotter: f.snapshotter,
          snapshot_key: t.id,
          extensions: { [DEFINITION_EXTENSION]: jsonAny(DEFINITION_TYPE_URL, def) },
        },
      }));
    } catch (e) {
      if (isAlreadyExists(e)) throw exists();
      throw e;
    }
    try {
      ctx.progress({ label: 'preparing the root filesystem', done: 0, unit: 'steps' });
      await prepareRootfs(f, t, resolved, ctx.signal);
    } catch (e) {
      await f.client.call('containers.Delete', { id: t.id }).catch(() => undefined);
      throw e;
    }
    return toInfo(f, t, made!, undefined);
  });
}

/**
 * The container's writable snapshot, from the image's top layer. The common case is one
 * call: the image is unpacked and no snapshot has our name. The engine's refusals say when
 * it is not so, and only then is there more to do.
 */
async function prepareRootfs(f: Family, t: Target, resolved: ResolvedImage, signal: AbortSignal): Promise<void> {
  const prepare = (parent: string, lease?: string) => f.client.call('snapshots.Prepare', { snapshotter: f.snapshotter, key: t.id, parent }, { lease });
  // Unpacking writes content and snapshots nothing refers to yet: that needs a lease.
  const unpackThenPrepare = () => withLease(f, async (lease) => prepare(await ensureUnpacked(f, resolved, lease, signal), lease));
  if (!resolved.topChainId) return void (await unpackThenPrepare());
  try {
    await prepare(resolved.topChainId);
  } catch (e) {
    // ALREADY_EXISTS: a snapshot under our name is the leftover of a create that died (the
    // record, made first, was ours to make, so no container has it).
    if (isAlreadyExists(e)) await f.client.call('snapshots.Remove', { snapshotter: f.snapshotter, key: t.id }).catch(() => undefined);
    // NOT_FOUND: the image's snapshots are not unpacked (pruned, or pulled without unpack).
    else if (!isNotFound(e)) throw e;
    await unpackThenPrepare();
  }
}

/**
 * Create and start the task; its stdout and stderr go to files through our logger
 * (stdio.ts). `seen` is the container and task as read under the lock, when the caller
 * has them. Answers the container record as it is now.
 */
export async function startTask(f: Family, t: Target, ctx: OpContext, seen?: { c: Container; task: Process | undefined }): Promise<Container> {
  const [c, old] = seen ? [seen.c, seen.task] : await Promise.all([getContainer(f, t), getTask(f, t)]);
  if (old && old.status !== 'STOPPED' && old.status !== 'CREATED') {
    throw driverError(f.profile.id, 'CONFLICT', `${what(f, t)} is already ${old.status.toLowerCase()}`);
  }
  if (old) await f.client.call('tasks.Delete', { container_id: t.id }, { namespace: t.namespace });
  // Independent reads and writes, at once: the stop mark (only when set), the rootfs mounts; the
  // log folder and its logger are made while they are on their way.
  const asked = Promise.all([
    c.labels[LABEL.stopRequested] !== undefined ? setLabel(f, t, LABEL.stopRequested, undefined) : Promise.resolve(c),
    f.client.call('snapshots.Mounts', { snapshotter: f.snapshotter, key: t.id }, { namespace: t.namespace }).catch((e: unknown) => {
      // A record without its snapshot: a create or a delete that did not finish (killed between its writes).
      if (isNotFound(e)) throw driverError(f.profile.id, 'CONFLICT', `${what(f, t)} has no root filesystem (its snapshot '${t.id}' is gone): delete it and create it again`);
      throw e;
    }),
  ]);
  asked.catch(() => undefined); // awaited below, unless the log folder cannot be made first
  const stdio = taskStdio(f, t);
  const [updated, { mounts }] = await asked;
  ctx.progress({ label: 'starting the task', done: 0, unit: 'steps' });
  await f.client.call(
    'tasks.Create',
    { container_id: t.id, rootfs: mounts, ...stdio },
    { namespace: t.namespace, signal: ctx.signal, timeoutMs: 120_000 },
  );
  try {
    await f.client.call('tasks.Start', { container_id: t.id }, { namespace: t.namespace, timeoutMs: 120_000 });
  } catch (e) {
    // A task that could not start is removed, so the next start begins clean.
    await f.client.call('tasks.Delete', { container_id: t.id }, { namespace: t.namespace }).catch(() => undefined);
    throw e;
  }
  return updated ?? c;
}

/** Wait for the task's exit, up to ms; false when it is still running then. */
async function waitExit(f: Family, t: Target, ms: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await f.client.call('tasks.Wait', { container_id: t.id }, { namespace: t.namespace, timeoutMs: Math.max(ms, 1), ...(signal ? { signal } : {}) });
    return true;
  } catch (e) {
    // The deadline travels to containerd: when its side expires first, it answers UNKNOWN with
    // "context deadline exceeded" rather than the client's own DEADLINE_EXCEEDED. Both mean "still running".
    if (isGrpcStatus(e, grpcStatus.DEADLINE_EXCEEDED) || /context deadline exceeded/.test((e as Error).message)) return false;
    if (isNotFound(e)) return true;
    throw e;
  }
}

async function kill(f: Family, t: Target, signal: number, all = false): Promise<void> {
  try {
    await f.client.call('tasks.Kill', { container_id: t.id, signal, all }, { namespace: t.namespace });
  } catch (e) {
    // Gone already (NOT_FOUND), or the shim says the process has finished.
    if (isNotFound(e) || /process already finished|not running/i.test((e as Error).message)) return;
    throw e;
  }
}

/**
 * SIGTERM, wait, SIGKILL; then the task is deleted, so the container reads "stopped"
 * and the next start creates a fresh task. The label set first keeps the exit from
 * reading as a crash.
 */
export async function stopTask(f: Family, t: Target, task: Process | undefined, opts: StopOptions, ctx: OpContext): Promise<Container | undefined> {
  if (!task) return undefined;
  if (task.status === 'STOPPED' || task.status === 'CREATED') {
    const c = task.status === 'CREATED' ? await setLabel(f, t, LABEL.stopRequested, new Date().toISOString()) : undefined;
    await f.client.call('tasks.Delete', { container_id: t.id }, { namespace: t.namespace });
    return c;
  }
  const c = await setLabel(f, t, LABEL.stopRequested, new Date().toISOString());
  const paused = task.status === 'PAUSED' || task.status === 'PAUSING';
  if (!opts.force) {
    ctx.progress({ label: 'SIGTERM sent', done: 0, total: opts.timeoutSec, unit: 'steps' });
    await kill(f, t, SIGTERM);
    // A frozen task only sees its signal once thawed.
    if (paused) await f.client.call('tasks.Resume', { container_id: t.id }, { namespace: t.namespace }).catch(() => undefined);
  }
  if (opts.force || !(await waitExit(f, t, opts.timeoutSec * 1000, ctx.signal))) {
    if (!opts.force) ctx.progress({ label: `still running after ${opts.timeoutSec}s: SIGKILL`, done: opts.timeoutSec, total: opts.timeoutSec, unit: 'steps' });
    // The wait goes out with the kill, not after it (one round trip less): a wait on a task that
    // has already exited answers at once. It is called off when the kill fails.
    const calledOff = new AbortController();
    const exited = waitExit(f, t, 10_000, calledOff.signal);
    exited.catch(() => undefined);
    try {
      await kill(f, t, SIGKILL, true);
      if (paused && opts.force) await f.client.call('tasks.Resume', { container_id: t.id }, { namespace: t.namespace }).catch(() => undefined);
    } catch (e) {
      calledOff.abort();
      throw e;
    }
    if (!(await exited)) throw driverError(f.profile.id, 'TIMEOUT', `${what(f, t)} survived SIGKILL for 10 s`);
  }
  await f.client.call('tasks.Delete', { container_id: t.id }, { namespace: t.namespace });
  return c;
}

/**
 * Delete. `alsoGone` starts under the lock alongside the read of the workload (a listing of
 * its snapshot images, say) and answers what to remove once the container record is gone,
 * which runs alongside the last steps.
 */
export async function deleteWorkload(
  f: Family,
  local: string,
  force: boolean,
  ctx: OpContext,
  alsoGone?: (t: Target) => Promise<() => Promise<void>>,
): Promise<Target> {
  const t0 = parseLocal(f, local);
  if (!t0.own) await observeOwn(f, local, ctx.signal);
  return locked(f, t0, `delete by ${ctx.origin}`, async () => {
    const also = alsoGone?.(t0);
    also?.catch(() => undefined); // awaited below, unless the read refuses first
    const { t, task } = await observeOwn(f, local, ctx.signal);
    forgetSeen(f, t);
    const active = task && task.status !== 'STOPPED';
    if (active && !force) throw driverError(f.profile.id, 'CONFLICT', `${what(f, t)} is ${task.status.toLowerCase()}: stop it first, or delete with force`);
    await stopTask(f, t, task, { force: true, timeoutSec: 0 }, ctx);
    // The record and its rootfs snapshot at once: ctr removes the snapshot first, so a record
    // left without it (a delete that failed half-way) is what ctr can leave too, and the next
    // delete finishes it. Once the record is gone, its log folder and snapshot images follow.
    await Promise.all([
      f.client.call('containers.Delete', { id: t.id }, { namespace: t.namespace }).then(() =>
        Promise.all([removeTree(workloadDir(f, t.namespace, t.id)), also?.then((remove) => remove())]),
      ),
      f.client.call('snapshots.Remove', { snapshotter: f.snapshotter, key: t.id }, { namespace: t.namespace }).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      }),
    ]);
    return t;
  });
}

/**
 * Pause or resume, then wait until containerd reports the new state; answers the task as
 * it then is. `seen` is the task as read under the lock, when the caller has it.
 */
export async function freeze(f: Family, t: Target, want: 'PAUSED' | 'RUNNING', seen?: { c: Container; task: Process | undefined }): Promise<Process> {
  const task = seen ? seen.task : await getTask(f, t);
  const need = want === 'PAUSED' ? 'RUNNING' : 'PAUSED';
  if (task?.status !== need) {
    throw driverError(f.profile.id, 'CONFLICT', `${what(f, t)} is ${task ? task.status.toLowerCase() : 'stopped'}, not ${need.toLowerCase()}`);
  }
  await f.client.call(want === 'PAUSED' ? 'tasks.Pause' : 'tasks.Resume', { container_id: t.id }, { namespace: t.namespace });
  // runc and runsc freeze and thaw before the shim answers (the freezer cgroup has reached
  // the state), so the answer is the new state; a Kata sandbox answers first and gets there after.
  if (seen && sandboxOf(f, seen.c) !== 'kata') return { ...task, status: want };
  for (let i = 0; i < 100; i++) {
    const now = await getTask(f, t);
    if (now?.status === want) return now;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw driverError(f.profile.id, 'TIMEOUT', `${what(f, t)} did not become ${want.toLowerCase()}`);
}

const RESOURCES_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources';

/**
 * New memory / CPU limits: written into the container's spec and definition (so the next
 * start has them) and, when a task runs, applied to it through the runtime's update.
 */
export async function scaleWorkload(f: Family, t: Target, resources: { memoryMB?: number; cpus?: number }): Promise<void> {
  const c = await getContainer(f, t);
  const spec = parseJsonAny<OciSpec>(c.spec);
  const def = definitionOf(c);
  if (!spec || !def) throw driverError(f.profile.id, 'NOT_SUPPORTED', `'${t.id}' has no spec NovaCron can change`);
  const r = resourcesOf(resources);
  spec.linux.resources = { ...spec.linux.resources, ...r };
  const next: Definition = {
    ...def,
    ...(resources.memoryMB !== undefined ? { memoryMB: resources.memoryMB } : {}),
    ...(resources.cpus !== undefined ? { cpus: resources.cpus } : {}),
  };
  const task = await getTask(f, t);
  if (task && task.status !== 'STOPPED') {
    await f.client.call('tasks.Update', { container_id: t.id, resources: jsonAny(RESOURCES_TYPE_URL, r) }, { namespace: t.namespace });
  }
  await f.client.call(
    'containers.Update',
    {
      container: { id: t.id, spec: jsonAny(SPEC_TYPE_URL, spec), extensions: { [DEFINITION_EXTENSION]: jsonAny(DEFINITION_TYPE_URL, next) } },
      update_mask: { paths: ['spec', `extensions.${DEFINITION_EXTENSION}`] },
    },
    { namespace: t.namespace },
  );
}
