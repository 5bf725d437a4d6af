import { createHash } from 'node:crypto';
import { invalid } from '../../../base/errors.js';
import { DIGEST_RE, MEDIA, isIndexType, pickManifest, sha256, type ImageConfig, type OciDescriptor, type OciIndex, type OciManifest } from './oci.js';
import type { TarEntry, TarIndex } from './tar.js';

/**
 * What an image archive holds, as the blobs to store: a manifest, its config and its
 * layers, each with where its bytes are in the archive. Two formats are read:
 * - an OCI image layout (oci-layout, index.json, blobs/sha256/…), which `docker save`
 *   of Docker 25+ also writes;
 * - the older `docker save` layout (manifest.json, <config>.json, <id>/layer.tar).
 * Either way NovaCron stores a fresh OCI manifest for the chosen image (see storeImage).
 */
export interface ArchiveLayer {
  entry: TarEntry;
  /** Known from the archive's manifest, or computed by hashing (docker format). */
  digest?: string;
  mediaType: string;
  diffId: string;
}

export interface ArchivePlan {
  format: 'oci' | 'docker';
  config: { bytes: Buffer; digest: string; json: ImageConfig };
  layers: ArchiveLayer[];
  /** Names the archive gives the image (RepoTags, ref.name annotations): for messages. */
  names: string[];
}

const bad = (msg: string) => invalid('file', msg, 'containerd');

function parse<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (e) {
    throw bad(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

async function blobOf(index: TarIndex, digest: string): Promise<TarEntry> {
  if (!DIGEST_RE.test(digest)) throw bad(`unsupported digest '${digest}' (only sha256 is read)`);
  const entry = index.get(`blobs/sha256/${digest.slice(7)}`);
  if (!entry) throw bad(`the archive lacks blob ${digest}`);
  return entry;
}

function checkConfig(config: ImageConfig, layers: number): void {
  const ids = config.rootfs?.diff_ids;
  if (!Array.isArray(ids) || ids.length !== layers) {
    throw bad(`the image config lists ${Array.isArray(ids) ? ids.length : 'no'} layer diff_ids for ${layers} layers`);
  }
  for (const id of ids) if (!DIGEST_RE.test(id)) throw bad(`the image config has an unsupported diff_id '${id}'`);
}

/** Names an admin may mean in an archive that holds several images. */
const tagOf = (ref: string) => ref.slice(ref.lastIndexOf(':') > ref.lastIndexOf('/') ? ref.lastIndexOf(':') + 1 : ref.length);

async function planOci(index: TarIndex, ref: string): Promise<ArchivePlan> {
  const top = parse<OciIndex>(await index.bytes(index.get('index.json')!), 'index.json');
  const names = top.manifests?.map((m) => m.annotations?.['io.containerd.image.name'] ?? m.annotations?.['org.opencontainers.image.ref.name']).filter((n): n is string => !!n) ?? [];
  let chosen: OciDescriptor | undefined;
  if ((top.manifests?.length ?? 0) === 1) chosen = top.manifests[0];
  else {
    chosen = top.manifests?.find((m) => {
      const a = m.annotations ?? {};
      return a['io.containerd.image.name'] === ref || a['org.opencontainers.image.ref.name'] === ref || a['org.opencontainers.image.ref.name'] === tagOf(ref);
    });
  }
  if (!chosen) throw bad(`the archive holds ${top.manifests?.length ?? 0} images (${names.join(', ') || 'unnamed'}); name one of them with --name`);
  // An index (multi-platform image) is followed to this host's manifest.
  for (let depth = 0; isIndexType(chosen.mediaType) && depth < 4; depth++) {
    const nested = parse<OciIndex>(await index.bytes(await blobOf(index, chosen.digest)), `index ${chosen.digest}`);
    const next = pickManifest(nested);
    if (!next) throw bad(`the image has no manifest for linux/${process.arch}`);
    chosen = next;
  }
  const manifest = parse<OciManifest>(await index.bytes(await blobOf(index, chosen.digest)), `manifest ${chosen.digest}`);
  if (!manifest.config || !Array.isArray(manifest.layers)) throw bad(`manifest ${chosen.digest} has no config or layers`);
  const configBytes = await index.bytes(await blobOf(index, manifest.config.digest));
  const config = parse<ImageConfig>(configBytes, 'the image config');
  checkConfig(config, manifest.layers.length);
  const layers: ArchiveLayer[] = [];
  for (const [i, l] of manifest.layers.entries()) {
    layers.push({ entry: await blobOf(index, l.digest), digest: l.digest, mediaType: l.mediaType, diffId: config.rootfs.diff_ids[i]! });
  }
  return {
    format: 'oci',
    config: { bytes: configBytes, digest: manifest.config.digest, json: config },
    layers,
    names,
  };
}

interface DockerSaveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function planDocker(index: TarIndex, ref: string): Promise<ArchivePlan> {
  const list = parse<DockerSaveEntry[]>(await index.bytes(index.get('manifest.json')!), 'manifest.json');
  if (!Array.isArray(list) || list.length === 0) throw bad('manifest.json lists no images');
  const names = list.flatMap((e) => e.RepoTags ?? []);
  const short = (r: string) => r.replace(/^docker\.io\/(library\/)?/, '');
  const chosen = list.length === 1 ? list[0] : list.find((e) => (e.RepoTags ?? []).some((t) => short(t) === short(ref)));
  if (!chosen) throw bad(`the archive holds ${list.length} images (${names.join(', ') || 'untagged'}); name one of them with --name`);
  const configEntry = index.get(chosen.Config);
  if (!configEntry) throw bad(`the archive lacks ${chosen.Config}`);
  const configBytes = await index.bytes(configEntry);
  const config = parse<ImageConfig>(configBytes, chosen.Config);
  checkConfig(config, chosen.Layers.length);
  const layers: ArchiveLayer[] = [];
  for (const [i, path] of chosen.Layers.entries()) {
    const entry = index.get(path);
    if (!entry) throw bad(`the archive lacks layer ${path}`);
    layers.push({ entry, mediaType: MEDIA.ociLayer, diffId: config.rootfs.diff_ids[i]! });
  }
  return { format: 'docker', config: { bytes: configBytes, digest: sha256(configBytes), json: config }, layers, names };
}

export async function planImport(index: TarIndex, ref: string): Promise<ArchivePlan> {
  if (index.has('index.json')) return planOci(index, ref);
  if (index.has('manifest.json')) return planDocker(index, ref);
  throw bad('is neither an OCI image layout (index.json) nor a `docker save` archive (manifest.json)');
}

/** Docker archives name layers by path, not digest: hash each one and notice gzip. */
export async function completeDockerPlan(index: TarIndex, plan: ArchivePlan, signal: AbortSignal, onBytes: (n: number) => void): Promise<void> {
  for (const layer of plan.layers) {
    const hash = createHash('sha256');
    let head: Buffer | undefined;
    for await (const chunk of index.stream(layer.entry)) {
      signal.throwIfAborted();
      const b = chunk as Buffer;
      head ??= b.subarray(0, 2);
      hash.update(b);
      onBytes(b.length);
    }
    layer.digest = `sha256:${hash.digest('hex')}`;
    if (head?.[0] === 0x1f && head[1] === 0x8b) layer.mediaType = MEDIA.ociLayerGzip;
    else if (layer.digest !== layer.diffId) throw bad(`layer ${layer.entry.name} does not match its diff_id ${layer.diffId}`);
  }
}
