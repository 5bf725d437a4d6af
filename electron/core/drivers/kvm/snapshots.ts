import type { SnapshotInfo } from '../../../../shared/model.js';
import { driverError, NovaError } from '../../base/errors.js';
import type { OpContext } from '../driver.js';
import { diskPath } from './args.js';
import { codeFor, imageInfo, qemuImg } from './disks.js';
import { QmpError, type QmpClient } from './qmp.js';
import type { VmDefinition, VmDisk } from './store.js';

const D = 'kvm';

/**
 * Internal qcow2 snapshots. A running or paused VM gets a live snapshot with its RAM
 * (QEMU's snapshot-save job, which pauses the guest for the copy and resumes it); a
 * stopped VM gets a disk-only one from qemu-img. Every writable disk must be qcow2, or
 * a snapshot would restore some disks and not others.
 */
export function snapshotDisks(def: VmDefinition): VmDisk[] {
  const bad = def.disks.filter((d) => d.format !== 'qcow2');
  if (def.disks.length === 0) throw driverError(D, 'NOT_SUPPORTED', `VM '${def.name}' has no disk: a snapshot needs a qcow2 disk to live in`);
  if (bad.length) {
    throw driverError(D, 'NOT_SUPPORTED', `VM '${def.name}': ${bad.map((d) => diskPath('', d) || d.node).join(', ')} ${bad.length > 1 ? 'are' : 'is'} not qcow2, so it cannot hold internal snapshots`);
  }
  return def.disks;
}

type RawSnap = { name: string; 'vm-state-size': number; 'date-sec': number; 'date-nsec'?: number };

const toInfo = (s: RawSnap): SnapshotInfo => ({
  name: s.name,
  createdAt: new Date(s['date-sec'] * 1000 + Math.round((s['date-nsec'] ?? 0) / 1e6)).toISOString(),
  sizeBytes: s['vm-state-size'],
  kind: s['vm-state-size'] > 0 ? 'with RAM' : 'disk only',
});

/** Snapshots of the first disk (they are taken on all disks at once); through QMP when QEMU holds the image. */
export async function listSnapshots(def: VmDefinition, vmDir: string, qemuImgBin: string, qmp: QmpClient | undefined, signal: AbortSignal): Promise<SnapshotInfo[]> {
  if (def.disks.length === 0 || def.disks[0]!.format !== 'qcow2') return [];
  const first = def.disks[0]!;
  if (qmp) {
    // Not flat: the argument costs more to send (QEMU reads QMP a byte per main-loop turn) than the nested backing chains it leaves out.
    const nodes = await qmp.execute<{ 'node-name': string; image: { snapshots?: RawSnap[] } }[]>('query-named-block-nodes');
    const node = nodes.find((n) => n['node-name'] === first.node);
    return (node?.image.snapshots ?? []).map(toInfo);
  }
  const info = await imageInfo(qemuImgBin, diskPath(vmDir, first), signal, true);
  return (info.snapshots ?? []).map(toInfo);
}

const JOB_LETTER = { 'snapshot-save': 's', 'snapshot-load': 'l', 'snapshot-delete': 'd' } as const;

/**
 * Run one snapshot job to its end, reporting QEMU's progress; QEMU's own error when it fails.
 * then: a look at QEMU's state once the job is over, sent with the job's dismissal (one
 * round trip); its answer is returned when the job succeeded.
 */

async function runJob<T = undefined>(
  qmp: QmpClient,
  kind: 'snapshot-save' | 'snapshot-load' | 'snapshot-delete',
  tag: string,
  disks: VmDisk[],
  ctx: OpContext,
  label: string,
  then?: () => Promise<T>,
): Promise<T | undefined> {
  // Short, as every byte sent to QMP costs QEMU a main-loop turn; unique among the jobs QEMU may still hold.
  const jobId = `nc${JOB_LETTER[kind]}${Date.now().toString(36)}`;
  const args: Record<string, unknown> = { 'job-id': jobId, tag, devices: disks.map((d) => d.node) };
  if (kind !== 'snapshot-delete') args.vmstate = disks[0]!.node;
  // Listening before the job starts: its concluded event may come before the command's answer is read.
  let concluded = false;
  // The way it concluded, as its status changes said: a job that succeeded went through 'pending', one that failed
  // through 'aborting' (its error is then read from query-jobs).
  let pending = false;
  let aborting = false;
  let wake: (() => void) | undefined;
  const sub = qmp.onEvent((e) => {
    if (e.event !== 'JOB_STATUS_CHANGE' || e.data?.id !== jobId) return;
    if (e.data.status === 'pending') pending = true;
    if (e.data.status === 'aborting') aborting = true;
    if (e.data.status === 'concluded') {
      concluded = true;
      wake?.();
    }
  });
  try {
    await qmp.execute(kind, args);
    for (;;) {
      if (!concluded && !ctx.signal.aborted) {
        // Woken by the job's concluded event at once; every 100 ms otherwise, for progress and for an event missed.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      const ended = concluded;
      if (ended && pending && !aborting) {
        // Seen to succeed: its dismissal and the look after go together, one round trip, answered in order.
        const [, after] = await Promise.all([qmp.execute('job-dismiss', { id: jobId }).catch(() => undefined), then?.()]);
        ctx.progress({ label, done: 1, total: 1, unit: 'steps' });
        return after;
      }
      // Once concluded, the job's last state and its dismissal go together: one round trip, answered in order.
      const [jobs, , after] = await Promise.all([
        qmp.execute<{ id: string; status: string; 'current-progress': number; 'total-progress': number; error?: string }[]>('query-jobs'),
        ended ? qmp.execute('job-dismiss', { id: jobId }).catch(() => undefined) : undefined,
        ended && then ? then().then((v) => ({ v }), (e: unknown) => ({ e })) : undefined,
      ]);
      const job = jobs.find((j) => j.id === jobId);
      if (!job) throw driverError(D, 'INTERNAL', `${label}: the ${kind} job vanished`);
      ctx.progress({ label, done: job['current-progress'], total: Math.max(job['total-progress'], 1), unit: 'steps' });
      if (job.status === 'concluded' || job.status === 'null') {
        if (!ended) await qmp.execute('job-dismiss', { id: jobId }).catch(() => undefined);
        if (job.error) throw driverError(D, /already exists/i.test(job.error) ? 'CONFLICT' : codeFor(job.error), `${label}: ${job.error}`);
        if (!after) return then ? await then() : undefined;
        if ('e' in after) throw after.e;
        return after.v;
      }
      // The job stops the guest for its copy; QEMU keeps going even if we stop watching, so abort is refused.
      if (ctx.signal.aborted) throw new NovaError('CANCELLED', `${label}: no longer watched; QEMU finishes the job by itself`);
    }
  } finally {
    sub.dispose();
  }
}

/**
 * A live snapshot, with RAM, and what QEMU then lists for it. A name already taken is
 * QEMU's own refusal (snapshot-save never overwrites, and checks before it pauses the guest).
 */
export async function createLive(qmp: QmpClient, def: VmDefinition, name: string, ctx: OpContext): Promise<SnapshotInfo> {
  const disks = snapshotDisks(def);
  let list: SnapshotInfo[] | undefined;
  try {
    // The listing goes with the job's last query: QEMU answers in order, so it sees the finished job.
    list = await runJob(qmp, 'snapshot-save', name, disks, ctx, `snapshot '${name}' of VM '${def.name}' (with RAM)`, () => listSnapshots(def, '', '', qmp, ctx.signal));
  } catch (e) {
    if (e instanceof NovaError && e.code === 'CONFLICT') throw driverError(D, 'CONFLICT', `a snapshot named '${name}' already exists`);
    throw e;
  }
  const made = (list ?? []).find((s) => s.name === name);
  if (!made) throw driverError(D, 'INTERNAL', `snapshot '${name}' was taken but is not listed`);
  return made;
}

export async function revertLive(qmp: QmpClient, def: VmDefinition, snap: SnapshotInfo, ctx: OpContext): Promise<void> {
  const disks = snapshotDisks(def);
  if (snap.kind === 'disk only') {
    throw driverError(D, 'CONFLICT', `VM '${def.name}': snapshot '${snap.name}' has no RAM state; stop the VM to revert its disks`);
  }
  await runJob(qmp, 'snapshot-load', snap.name, disks, ctx, `revert VM '${def.name}' to '${snap.name}'`);
}

export async function deleteLive(qmp: QmpClient, def: VmDefinition, name: string, ctx: OpContext): Promise<void> {
  try {
    await runJob(qmp, 'snapshot-delete', name, snapshotDisks(def), ctx, `delete snapshot '${name}' of VM '${def.name}'`);
  } catch (e) {
    if (e instanceof QmpError) throw driverError(D, 'INTERNAL', e.message);
    throw e;
  }
}

/** qemu-img snapshot -c / -a / -d on every disk of a stopped VM. */
export async function offline(op: '-c' | '-a' | '-d', qemuImgBin: string, def: VmDefinition, vmDir: string, name: string, ctx: OpContext): Promise<void> {
  const disks = snapshotDisks(def);
  const verb = op === '-c' ? 'snapshot' : op === '-a' ? 'revert' : 'delete snapshot';
  for (const [i, d] of disks.entries()) {
    ctx.progress({ label: `${verb} '${name}': disk ${i + 1}/${disks.length}`, done: i, total: disks.length, unit: 'steps' });
    await qemuImg(qemuImgBin, ['snapshot', op, name, diskPath(vmDir, d)], `VM '${def.name}': ${verb} '${name}'`, ctx.signal);
  }
  ctx.progress({ label: `${verb} '${name}' done`, done: disks.length, total: disks.length, unit: 'steps' });
}
