import { randomBytes } from 'node:crypto';
import type { SnapshotInfo, WorkloadInfo } from '../../../../shared/model.js';
import { driverError } from '../../base/errors.js';
import type { OpContext } from '../driver.js';
import { isNotFound } from './api/client.js';
import type { Image } from './api/messages.js';
import { GC, LABEL, isoOf, type Family, type Target } from './context.js';
import { blobInfo } from './images/content.js';
import { ensureUnpacked, getImage, resolveImage, storeImage } from './images/images.js';
import { MEDIA } from './images/oci.js';
import { unpackLayers } from './images/unpack.js';
import { takeLease, withLease } from './lease.js';
import { freeze, locked, lockedOwn, startTask, stopTask } from './lifecycle.js';
import { getContainer, getTask, observeOwn, toInfo } from './workloads.js';

/**
 * Snapshots of a container's root filesystem, as images: a snapshot is the diff of the
 * rootfs against the image it started from, stored as one more layer on that image
 * (content + manifest + image record named novacron-snapshot/<workload>:<snapshot>).
 * Reverting replaces the container's rootfs with a fresh one from that image. Memory is
 * not part of it: a running workload is restarted on its reverted filesystem.
 */
export const snapshotRef = (id: string, name: string) => `novacron-snapshot/${id}:${name}`;

function toSnapshot(image: Image): SnapshotInfo {
  const createdAt = isoOf(image.created_at);
  return {
    name: image.labels[LABEL.snapshotName] ?? image.name,
    ...(createdAt ? { createdAt } : {}),
    kind: 'root filesystem (image)',
  };
}

export async function listSnapshots(f: Family, local: string, signal: AbortSignal): Promise<SnapshotInfo[]> {
  const { t } = await observeOwn(f, local, signal);
  const { images } = await f.client.call('images.List', { filters: [`labels."${LABEL.snapshotOf}"=="${t.id}"`] }, { signal });
  return images.map(toSnapshot).sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
}

export async function createSnapshot(f: Family, local: string, name: string, ctx: OpContext): Promise<SnapshotInfo> {
  const D = f.profile.id;
  return lockedOwn(f, local, `snapshot by ${ctx.origin}`, ctx.signal, async ({ t, c, task }) => {
    const ref = snapshotRef(t.id, name);
    // Asked for while the images are read: one round trip fewer in a row.
    const lease = takeLease(f);
    /** The view the diff is made against, and the new layer to unpack: both dealt with once the snapshot has answered. */
    const viewKey = `novacron-view-${randomBytes(6).toString('hex')}`;
    let viewing: Promise<unknown> | undefined;
    let unpackLater: (() => Promise<unknown>) | undefined;
    try {
      const [taken, base] = await Promise.all([getImage(f, ref), getImage(f, c.image)]);
      if (taken) throw driverError(D, 'CONFLICT', `'${t.id}' already has a snapshot named '${name}'`);
      if (!base) throw driverError(D, 'CONFLICT', `the image '${c.image}' that '${t.id}' runs from was deleted, so its changes cannot be layered on it`);
      const resolved = await resolveImage(f, base, { signal: ctx.signal });
      // A running task is frozen while its rootfs is read, so the layer is consistent. Only the
      // diff needs it frozen: the freeze goes out with the view the diff is made against, and
      // the thaw as soon as the diff is made, alongside storing the layer.
      const wasRunning = task?.status === 'RUNNING';
      const freezing = wasRunning ? freeze(f, t, 'PAUSED', { c, task }) : Promise.resolve(undefined);
      freezing.catch(() => undefined); // awaited before the diff, unless the lease or the view fails first
      let thawing: Promise<unknown> | undefined;
      // Thawed only once frozen: a freeze that failed left nothing to thaw.
      const thaw = () =>
        (thawing ??= wasRunning
          ? freezing.then(() => freeze(f, t, 'RUNNING', { c, task: { ...task, status: 'PAUSED' } }), () => undefined).catch(() => undefined)
          : Promise.resolve());
      try {
        await lease.ready;
        ctx.progress({ label: 'computing the changes', done: 0, total: 3, unit: 'steps' });
        const view = (parent: string) => f.client.call('snapshots.View', { snapshotter: f.snapshotter, key: viewKey, parent }, { lease: lease.id });
        // The base is unpacked (the container's rootfs was prepared from it), so it is viewed
        // with no look first; only a refusal (its snapshots pruned since) unpacks it.
        const viewed = (async () => {
          if (resolved.topChainId) {
            try {
              return await view(resolved.topChainId);
            } catch (e) {
              if (!isNotFound(e)) throw e;
            }
          }
          return view(await ensureUnpacked(f, resolved, lease.id, ctx.signal));
        })();
        viewing = viewed;
        let layer;
        try {
          const [{ mounts: left }, { mounts: right }] = await Promise.all([
            viewed,
            f.client.call('snapshots.Mounts', { snapshotter: f.snapshotter, key: t.id }),
            freezing,
          ]);
          const { diff } = await f.client.call(
            'diff.Diff',
            { left, right, media_type: MEDIA.ociLayerGzip, ref: `novacron-diff-${randomBytes(6).toString('hex')}` },
            { lease: lease.id, signal: ctx.signal, timeoutMs: 30 * 60_000 },
          );
          layer = diff!;
        } finally {
          void thaw();
        }
        const diffId = (await blobInfo(f.client, layer.digest, { lease: lease.id }))?.labels[GC.uncompressed] ?? layer.digest;
        ctx.progress({ label: 'storing the snapshot image', done: 1, total: 3, unit: 'steps' });
        const now = new Date().toISOString();
        const config = {
          ...resolved.config,
          created: now,
          rootfs: { type: 'layers', diff_ids: [...resolved.config.rootfs.diff_ids, diffId] },
          history: [...(resolved.config.history ?? []), { created: now, created_by: `novacron snapshot ${name} of ${t.id}` }],
        };
        const layers = [...resolved.manifest.layers, { mediaType: layer.media_type, digest: layer.digest, size: layer.size }];
        const image = await storeImage(
          f,
          ref,
          { config: Buffer.from(JSON.stringify(config)), layers, labels: { [LABEL.snapshotOf]: t.id, [LABEL.snapshotName]: name } },
          { lease: lease.id, signal: ctx.signal },
        );
        // The image is complete now (its content is stored and referenced), so the answer does not
        // wait for the new layer to be unpacked: that is done after it, holding the lease, so a
        // revert then finds it ready and `ctr run` can use the image as is. A revert that comes
        // first, or an unpack that failed, unpacks it itself (ensureUnpacked). The base layers are
        // (the rootfs was just diffed against them); the new one is fresh, so nothing is asked first.
        unpackLater = () =>
          unpackLayers(
            f,
            layers.map((l, i) => ({ ...l, diffId: config.rootfs.diff_ids[i]! })),
            { lease: lease.id, signal: new AbortController().signal, unpacked: resolved.manifest.layers.length, fresh: true },
          );
        ctx.progress({ label: 'storing the snapshot image', done: 2, total: 3, unit: 'steps' });
        return { ...toSnapshot(image), sizeBytes: layer.size };
      } finally {
        // The answer waits for the thaw: a workload said to be running is.
        await thaw();
      }
    } finally {
      // After the answer (the task thawed), holding the lease, so they do not compete with it; a
      // process about to exit (the CLI) waits for them, as for a release. The view goes first:
      // its removal sets containerd's garbage collector going, which holds its metadata store.
      const viewGone = viewing?.then(() => f.client.call('snapshots.Remove', { snapshotter: f.snapshotter, key: viewKey })).catch(() => undefined);
      lease.release(unpackLater ? Promise.resolve(viewGone).then(unpackLater) : viewGone);
    }
  });
}

/** Swap the container's rootfs for a fresh one from the snapshot image; a running task is restarted on it. */
export async function revertSnapshot(f: Family, local: string, name: string, ctx: OpContext): Promise<WorkloadInfo> {
  const D = f.profile.id;
  const { t } = await observeOwn(f, local, ctx.signal);
  return locked(f, t, `revert by ${ctx.origin}`, async () => {
    const ref = snapshotRef(t.id, name);
    const image = await getImage(f, ref);
    if (!image) throw driverError(D, 'NOT_FOUND', `'${t.id}' has no snapshot named '${name}'`);
    const resolved = await resolveImage(f, image, { signal: ctx.signal });
    const task = await getTask(f, t);
    const wasActive = task !== undefined && task.status !== 'STOPPED';
    await withLease(f, async (lease) => {
      const parent = await ensureUnpacked(f, resolved, lease, ctx.signal);
      ctx.progress({ label: 'replacing the root filesystem', done: 0, unit: 'steps' });
      await stopTask(f, t, task, { force: true, timeoutSec: 0 }, ctx);
      await f.client.call('snapshots.Remove', { snapshotter: f.snapshotter, key: t.id });
      await f.client.call('snapshots.Prepare', { snapshotter: f.snapshotter, key: t.id, parent }, { lease });
      await f.client.call(
        'containers.Update',
        { container: { id: t.id, image: ref, labels: { [LABEL.snapshot]: name } }, update_mask: { paths: ['image', `labels.${LABEL.snapshot}`] } },
        { lease },
      );
    });
    if (wasActive) await startTask(f, t, ctx);
    return toInfo(f, t, await getContainer(f, t), await getTask(f, t));
  });
}

export async function deleteSnapshot(f: Family, local: string, name: string, ctx: OpContext): Promise<void> {
  const D = f.profile.id;
  const { t, c } = await observeOwn(f, local, ctx.signal);
  const ref = snapshotRef(t.id, name);
  if (!(await getImage(f, ref))) throw driverError(D, 'NOT_FOUND', `'${t.id}' has no snapshot named '${name}'`);
  if (c.image === ref) throw driverError(D, 'CONFLICT', `'${t.id}' runs from snapshot '${name}' now: revert to another one before deleting it`);
  await f.client.call('images.Delete', { name: ref }, { signal: ctx.signal });
}

/**
 * A workload's snapshot images: listed at once (while the workload is read, under its lock),
 * and the returned step deletes them once the workload is gone.
 */
export async function deleteAllSnapshots(f: Family, t: Target): Promise<() => Promise<void>> {
  const { images } = await f.client.call('images.List', { filters: [`labels."${LABEL.snapshotOf}"=="${t.id}"`] });
  return async () => {
    for (const i of images) await f.client.call('images.Delete', { name: i.name }).catch(() => undefined);
  };
}
