import type { SnapshotInfo, WorkloadInfo } from '../../../../shared/model.js';
import { driverError } from '../../base/errors.js';
import type { OpContext } from '../driver.js';
import { what, type Lv } from './context.js';
import { watchJob } from './jobs.js';
import { onDomain } from './lifecycle.js';
import { D } from './virsh.js';

/**
 * `virsh snapshot-list DOMAIN`: " NAME   2026-11-26 13:37:21 +0000   running". The state is
 * the domain's when it was taken: a running or paused one has its RAM (libvirt's internal
 * full-system checkpoint), a shut off one is disks only.
 */
export function parseSnapshotList(text: string): SnapshotInfo[] {
  const out: SnapshotInfo[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(.+?)\s+(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) ([+-]\d\d)(\d\d)\s+(\S.*?)\s*$/.exec(line);
    if (!m) continue;
    const state = m[6]!;
    out.push({
      name: m[1]!,
      createdAt: new Date(`${m[2]}T${m[3]}${m[4]}:${m[5]}`).toISOString(),
      kind: state === 'shutoff' || state === 'disk-snapshot' ? 'disk only' : `with RAM (${state})`,
    });
  }
  return out;
}

export async function list(lv: Lv, local: string, signal: AbortSignal): Promise<SnapshotInfo[]> {
  const uuid = lv.domains.check(local);
  return parseSnapshotList(await lv.virsh.run(['snapshot-list', uuid], { signal }));
}

async function find(lv: Lv, uuid: string, name: string, signal: AbortSignal): Promise<SnapshotInfo | undefined> {
  return (await list(lv, uuid, signal)).find((s) => s.name === name);
}

/** snapshot-create-as: with RAM while the domain runs (all its disks must be qcow2), disks only while it is off. */
export async function create(lv: Lv, local: string, name: string, ctx: OpContext): Promise<SnapshotInfo> {
  return onDomain(lv, local, 'snapshot', ctx, async (f) => {
    if (await find(lv, f.uuid, name, ctx.signal)) throw driverError(D, 'CONFLICT', `${what(f)} already has a snapshot named '${name}'`);
    const label = `snapshot '${name}' of ${what(f)}`;
    await watchJob(lv, f.uuid, label, ctx, lv.virsh.run(['snapshot-create-as', f.uuid, '--name', name, '--atomic'], { timeoutMs: 0 }));
    const made = await find(lv, f.uuid, name, ctx.signal);
    if (!made) throw driverError(D, 'INTERNAL', `${label} was taken but is not listed`);
    return made;
  });
}

/** snapshot-revert: the domain comes back in the state it was in when the snapshot was taken. */
export async function revert(lv: Lv, local: string, name: string, ctx: OpContext): Promise<WorkloadInfo> {
  return onDomain(lv, local, 'revert', ctx, async (f) => {
    if (!(await find(lv, f.uuid, name, ctx.signal))) throw driverError(D, 'NOT_FOUND', `${what(f)} has no snapshot named '${name}'`);
    await watchJob(lv, f.uuid, `revert ${what(f)} to '${name}'`, ctx, lv.virsh.run(['snapshot-revert', f.uuid, '--snapshotname', name], { timeoutMs: 0 }));
    lv.domains.forget(f.uuid);
    return lv.domains.info(f.uuid, ctx.signal);
  });
}

export async function remove(lv: Lv, local: string, name: string, ctx: OpContext): Promise<void> {
  await onDomain(lv, local, 'delete snapshot', ctx, async (f) => {
    if (!(await find(lv, f.uuid, name, ctx.signal))) throw driverError(D, 'NOT_FOUND', `${what(f)} has no snapshot named '${name}'`);
    await lv.virsh.run(['snapshot-delete', f.uuid, '--snapshotname', name], { signal: ctx.signal, timeoutMs: 0 });
  });
}
