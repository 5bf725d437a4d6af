import type { ImageInfo } from '../../../../../shared/model.js';
import { driverError } from '../../../base/errors.js';
import { isAlreadyExists, isNotFound, type CallOptions } from '../api/client.js';
import type { Image } from '../api/messages.js';
import { GC, isoOf, type Family } from '../context.js';
import { chunksOf, readJsonBlob, writeBlob } from './content.js';
import { chainIds, isIndexType, MEDIA, pickManifest, sha256, type ImageConfig, type OciDescriptor, type OciIndex, type OciManifest } from './oci.js';
import { snapshotExists, unpackLayers } from './unpack.js';

/** An image as containerd holds it, followed down to this host's manifest and config. */
export interface ResolvedImage {
  image: Image;
  manifestDigest: string;
  manifest: OciManifest;
  config: ImageConfig;
  /** The committed snapshot a rootfs from this image starts from. */
  topChainId: string;
}

export async function getImage(f: Family, ref: string, opts: CallOptions = {}): Promise<Image | undefined> {
  try {
    return (await f.client.call('images.Get', { name: ref }, opts)).image ?? undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/**
 * Resolutions by the image's target digest. Content is addressed by its digest, so what a
 * digest resolves to never changes: an image re-tagged elsewhere has another digest and
 * misses. Bounded; per containerd address and namespace.
 */
const resolved = new Map<string, Promise<Omit<ResolvedImage, 'image'>>>();
const RESOLVED_MAX = 64;

export async function resolveImage(f: Family, image: Image, opts: CallOptions = {}): Promise<ResolvedImage> {
  const digest = image.target?.digest;
  if (!digest) return resolveAfresh(f, image, opts);
  const key = `${f.client.address}\0${opts.namespace ?? f.client.namespace}\0${digest}`;
  let hit = resolved.get(key);
  if (!hit) {
    if (resolved.size >= RESOLVED_MAX) resolved.delete(resolved.keys().next().value!);
    hit = resolveAfresh(f, image, opts);
    resolved.set(key, hit);
    // A failed read (content gone, a cancelled call) is not remembered.
    hit.catch(() => resolved.delete(key));
  }
  return { ...(await hit), image };
}

async function resolveAfresh(f: Family, image: Image, opts: CallOptions): Promise<ResolvedImage> {
  let target: OciDescriptor | undefined = image.target ? { mediaType: image.target.media_type, digest: image.target.digest, size: image.target.size } : undefined;
  for (let depth = 0; target && isIndexType(target.mediaType) && depth < 4; depth++) {
    target = pickManifest(await readJsonBlob<OciIndex>(f.client, target.digest, opts));
  }
  if (!target) throw driverError(f.profile.id, 'NOT_SUPPORTED', `image '${image.name}' has no manifest for linux on this architecture`);
  const manifest = await readJsonBlob<OciManifest>(f.client, target.digest, opts);
  const config = await readJsonBlob<ImageConfig>(f.client, manifest.config.digest, opts);
  const diffIds = config.rootfs?.diff_ids ?? [];
  return { image, manifestDigest: target.digest, manifest, config, topChainId: chainIds(diffIds).at(-1) ?? '' };
}

/**
 * The snapshot a container starts from, unpacking the image first when it is not (an
 * image `ctr pull`ed without unpack, or whose snapshots were pruned).
 */
export async function ensureUnpacked(f: Family, r: ResolvedImage, lease: string, signal: AbortSignal): Promise<string> {
  if (!r.topChainId) throw driverError(f.profile.id, 'NOT_SUPPORTED', `image '${r.image.name}' has no layers`);
  if (await snapshotExists(f, r.topChainId)) return r.topChainId;
  const layers = r.manifest.layers.map((l, i) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size, diffId: r.config.rootfs.diff_ids[i]! }));
  return unpackLayers(f, layers, { lease, signal });
}

/**
 * Store an image's config and manifest with the labels containerd's garbage collector
 * follows (manifest → config and layers; config → its unpacked snapshot), then point
 * the image record at the manifest (made, or moved when the name exists).
 */
export async function storeImage(
  f: Family,
  ref: string,
  parts: { config: Buffer; layers: OciDescriptor[]; labels?: Record<string, string> },
  opts: CallOptions & { lease: string },
): Promise<Image> {
  const configDigest = sha256(parts.config);
  const diffIds = (JSON.parse(parts.config.toString('utf8')) as ImageConfig).rootfs.diff_ids;
  const top = chainIds(diffIds).at(-1);
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: configDigest, size: parts.config.length },
    layers: parts.layers,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = sha256(bytes);
  const refs: Record<string, string> = { [GC.content('config')]: configDigest };
  parts.layers.forEach((l, i) => (refs[GC.content(`l.${i}`)] = l.digest));
  // Both blobs at once: the lease holds each until the image record refers to them, whichever lands first.
  await Promise.all([
    writeBlob(f.client, {
      digest: configDigest,
      size: parts.config.length,
      ...(top ? { labels: { [GC.snapshot(f.snapshotter)]: top } } : {}),
      chunks: () => chunksOf(parts.config),
    }, opts),
    writeBlob(f.client, { digest, size: bytes.length, labels: refs, chunks: () => chunksOf(bytes) }, opts),
  ]);
  const image = { name: ref, labels: parts.labels ?? {}, target: { media_type: MEDIA.ociManifest, digest, size: bytes.length } };
  // Made, or moved when the name exists: containerd's refusal says which, with no read before.
  try {
    return (await f.client.call('images.Create', { image }, opts)).image!;
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  return (await f.client.call('images.Update', { image, update_mask: { paths: ['target', 'labels'] } }, opts)).image!;
}

export async function imageInfo(f: Family, image: Image, opts: CallOptions = {}): Promise<ImageInfo> {
  let sizeBytes: number | undefined;
  try {
    const r = await resolveImage(f, image, opts);
    sizeBytes = r.manifest.layers.reduce((n, l) => n + l.size, r.manifest.config.size);
  } catch (e) {
    // An image whose blobs are gone still lists; its size is just unknown.
    if (!isNotFound(e)) throw e;
  }
  return {
    id: image.target?.digest ?? image.name,
    driver: f.profile.id,
    refs: [image.name],
    ...(sizeBytes !== undefined ? { sizeBytes } : {}),
    ...(isoOf(image.created_at) ? { createdAt: isoOf(image.created_at)! } : {}),
  };
}

export async function listImages(f: Family, signal: AbortSignal): Promise<ImageInfo[]> {
  const { images } = await f.client.call('images.List', {}, { signal });
  const out = await Promise.all(images.map((i) => imageInfo(f, i, { signal })));
  return out.sort((a, b) => a.refs[0]!.localeCompare(b.refs[0]!));
}

/** Delete an image record; refused while a workload of ours still names it. Its blobs go with containerd's GC. */
export async function deleteImage(f: Family, ref: string, signal: AbortSignal): Promise<void> {
  if (!(await getImage(f, ref, { signal }))) throw driverError(f.profile.id, 'NOT_FOUND', `no image '${ref}' in namespace ${f.client.namespace}`);
  const { containers } = await f.client.call('containers.List', { filters: [`image=="${ref}"`] }, { signal });
  if (containers.length) {
    throw driverError(f.profile.id, 'CONFLICT', `image '${ref}' is used by ${containers.map((c) => c.id).join(', ')}: delete those workloads first`);
  }
  await f.client.call('images.Delete', { name: ref, sync: false }, { signal });
}
