import { randomBytes } from 'node:crypto';
import { driverError } from '../../../base/errors.js';
import { isAlreadyExists, isNotFound } from '../api/client.js';
import type { Family } from '../context.js';
import { chainIds } from './oci.js';

export interface UnpackLayer {
  digest: string;
  mediaType: string;
  size: number;
  diffId: string;
}

export async function snapshotExists(f: Family, key: string): Promise<boolean> {
  try {
    await f.client.call('snapshots.Stat', { snapshotter: f.snapshotter, key });
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

/**
 * Unpack layers into the snapshotter, one committed snapshot per layer prefix, named by
 * its chain id (as containerd's own unpacker names them, so `ctr` sees the image as
 * unpacked). Each layer is applied by containerd's differ onto a fresh active snapshot
 * of its parent, which handles decompression. Layers already unpacked are skipped.
 * Returns the top chain id: the parent of every container rootfs from this image.
 */
export async function unpackLayers(
  f: Family,
  layers: readonly UnpackLayer[],
  opts: {
    lease: string;
    signal: AbortSignal;
    onLayer?: (done: number, total: number) => void;
    /** How many leading layers the caller knows are unpacked: not asked for again. */
    unpacked?: number;
    /** The other layers were just made (a fresh diff): not asked for either; one there after all is found at the commit. */
    fresh?: boolean;
  },
): Promise<string> {
  const chain = chainIds(layers.map((l) => l.diffId));
  const known = Math.min(opts.unpacked ?? 0, layers.length);
  let parent = known ? chain[known - 1]! : '';
  for (const [i, layer] of layers.entries()) {
    if (i < known) continue;
    opts.signal.throwIfAborted();
    const name = chain[i]!;
    opts.onLayer?.(i, layers.length);
    if (!opts.fresh && (await snapshotExists(f, name))) {
      parent = name;
      continue;
    }
    const key = `novacron-extract-${randomBytes(6).toString('hex')} ${name}`;
    const { mounts } = await f.client.call('snapshots.Prepare', { snapshotter: f.snapshotter, key, parent }, { lease: opts.lease });
    try {
      const { applied } = await f.client.call(
        'diff.Apply',
        { diff: { media_type: layer.mediaType, digest: layer.digest, size: layer.size }, mounts },
        { lease: opts.lease, signal: opts.signal, timeoutMs: 30 * 60_000 },
      );
      if (applied && applied.digest !== layer.diffId) {
        throw driverError(f.profile.id, 'INVALID_ARGUMENT', `file: layer ${i + 1} unpacks to ${applied.digest}, but the image config says ${layer.diffId}`);
      }
      try {
        await f.client.call('snapshots.Commit', { snapshotter: f.snapshotter, name, key }, { lease: opts.lease });
      } catch (e) {
        // Another unpack of the same layer finished first: its snapshot is as good as ours.
        if (!isAlreadyExists(e)) throw e;
        await f.client.call('snapshots.Remove', { snapshotter: f.snapshotter, key }).catch(() => undefined);
      }
    } catch (e) {
      await f.client.call('snapshots.Remove', { snapshotter: f.snapshotter, key }).catch(() => undefined);
      throw e;
    }
    parent = name;
  }
  opts.onLayer?.(layers.length, layers.length);
  return parent;
}
