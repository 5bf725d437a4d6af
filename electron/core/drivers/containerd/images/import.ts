import { stat } from 'node:fs/promises';
import { imageRefProblem } from '../../../../../shared/drivers/containerd.js';
import type { ImageInfo } from '../../../../../shared/model.js';
import { invalid } from '../../../base/errors.js';
import type { OpContext } from '../../driver.js';
import type { Family } from '../context.js';
import { ensureNamespace, withLease } from '../lease.js';
import { completeDockerPlan, planImport } from './archive.js';
import { writeBlob } from './content.js';
import { imageInfo, storeImage } from './images.js';
import { TarIndex } from './tar.js';
import { unpackLayers } from './unpack.js';

/**
 * `images import`: an image archive on this host → blobs in containerd's content store,
 * an image record named `ref`, and its layers unpacked into the snapshotter, all under
 * one lease so a concurrent garbage collection cannot take half of it.
 */
export async function importArchive(f: Family, file: string, ref: string, ctx: OpContext): Promise<ImageInfo> {
  const problem = imageRefProblem(ref);
  if (problem) throw invalid('name', problem, f.profile.id);
  const st = await stat(file).catch(() => undefined);
  if (!st) throw invalid('file', `${file} does not exist`, f.profile.id);
  if (!st.isFile()) throw invalid('file', `${file} is not a file`, f.profile.id);

  ctx.progress({ label: 'reading the archive', done: 0, unit: 'steps' });
  let index: TarIndex;
  try {
    index = await TarIndex.read(file, ctx.signal);
  } catch (e) {
    throw invalid('file', `${file} is not a readable tar archive: ${(e as Error).message}`, f.profile.id);
  }
  const plan = await planImport(index, ref);
  const total = plan.layers.reduce((n, l) => n + l.entry.size, 0);
  if (plan.format === 'docker') {
    let hashed = 0;
    await completeDockerPlan(index, plan, ctx.signal, (n) => {
      hashed += n;
      ctx.progress({ label: 'hashing layers', done: hashed, total, unit: 'bytes' });
    });
  }
  await ensureNamespace(f);

  return withLease(f, async (lease) => {
    const opts = { lease, signal: ctx.signal };
    let sent = 0;
    for (const layer of plan.layers) {
      await writeBlob(
        f.client,
        { digest: layer.digest!, size: layer.entry.size, chunks: () => index.stream(layer.entry) as AsyncIterable<Buffer> },
        {
          ...opts,
          onBytes: (n) => {
            sent += n;
            ctx.progress({ label: 'storing layers', done: sent, total, unit: 'bytes' });
          },
        },
      );
    }
    await unpackLayers(
      f,
      plan.layers.map((l) => ({ digest: l.digest!, mediaType: l.mediaType, size: l.entry.size, diffId: l.diffId })),
      { lease, signal: ctx.signal, onLayer: (done, n) => ctx.progress({ label: 'unpacking layers', done, total: n, unit: 'steps' }) },
    );
    const image = await storeImage(
      f,
      ref,
      {
        config: plan.config.bytes,
        layers: plan.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest!, size: l.entry.size })),
      },
      opts,
    );
    return imageInfo(f, image, opts);
  });
}
