import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { imageRefProblem } from '../../../../shared/drivers/container.js';
import type { ImageInfo } from '../../../../shared/model.js';
import { driverError, invalid, isNodeError } from '../../base/errors.js';
import type { OpContext } from '../driver.js';
import { call, D, engineError } from './errors.js';
import { tarKind } from './tarkind.js';

/** An engine's progress stream (pull, import, load): JSON objects, one per line. */
export interface ProgressMessage {
  status?: string;
  stream?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Read a progress stream to its end; an `error` in it (the engine reports failures of
 * pulls and loads inside a 200 response) rejects with the engine's words.
 */
export function followJson(stream: Readable, onMessage: (m: ProgressMessage) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let failed: Error | undefined;
    const abort = () => stream.destroy(Object.assign(new Error('cancelled'), { name: 'AbortError' }));
    signal?.addEventListener('abort', abort, { once: true });
    const handle = (line: string) => {
      if (!line.trim()) return;
      let m: ProgressMessage;
      try {
        m = JSON.parse(line) as ProgressMessage;
      } catch {
        return;
      }
      if (m.error || m.errorDetail?.message) failed ??= Object.assign(new Error(m.errorDetail?.message ?? m.error), { json: { message: m.errorDetail?.message ?? m.error } });
      else onMessage(m);
    };
    stream.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      parts.forEach(handle);
    });
    stream.once('end', () => {
      signal?.removeEventListener('abort', abort);
      handle(buf);
      if (failed) reject(failed);
      else resolve();
    });
    stream.once('error', (e) => {
      signal?.removeEventListener('abort', abort);
      reject(e);
    });
  });
}

/** Counts bytes going through, reporting at most a few times a second. */
export function byteCounter(report: (done: number) => void): Transform {
  let done = 0;
  let last = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      const now = Date.now();
      if (now - last > 200) {
        last = now;
        report(done);
      }
      cb(null, chunk);
    },
    flush(cb) {
      report(done);
      cb();
    },
  });
}

/** "host:5000/team/app:1.0" → repo "host:5000/team/app", tag "1.0". */
export function splitRef(ref: string): { repo: string; tag: string } {
  const noDigest = ref.split('@')[0]!;
  const colon = noDigest.lastIndexOf(':');
  if (colon > noDigest.lastIndexOf('/')) return { repo: noDigest.slice(0, colon), tag: noDigest.slice(colon + 1) };
  return { repo: noDigest, tag: 'latest' };
}

export const withTag = (ref: string) => {
  const { repo, tag } = splitRef(ref);
  return ref.includes('@') ? ref : `${repo}:${tag}`;
};

export function imageInfoOf(i: { Id: string; RepoTags?: string[] | null; Size?: number; Created?: number | string }): ImageInfo {
  const created = typeof i.Created === 'number' ? new Date(i.Created * 1000).toISOString() : i.Created;
  return {
    id: i.Id,
    driver: D,
    refs: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
    ...(i.Size !== undefined ? { sizeBytes: i.Size } : {}),
    ...(created ? { createdAt: created } : {}),
  };
}

export async function listImages(docker: Dockerode, signal: AbortSignal): Promise<ImageInfo[]> {
  const list = await call('images', () => docker.listImages({ abortSignal: signal } as object));
  return list.map(imageInfoOf).sort((a, b) => (a.refs[0] ?? '~').localeCompare(b.refs[0] ?? '~'));
}

export async function inspectImage(docker: Dockerode, ref: string, signal?: AbortSignal): Promise<ImageInfo> {
  const i = await call(`image '${ref}'`, () => docker.getImage(ref).inspect(signal ? ({ abortSignal: signal } as object) : undefined));
  return imageInfoOf(i);
}

export function checkRef(ref: string, field: string): void {
  const p = imageRefProblem(ref);
  if (p) throw invalid(field, p, D);
}

/**
 * `docker import` for a root filesystem tarball, `docker load` for an image archive; either
 * way the file is streamed to the engine, never read into memory, with its progress.
 */
export async function importImage(docker: Dockerode, file: string, name: string, ctx: OpContext): Promise<ImageInfo> {
  checkRef(name, 'name');
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw invalid('file', `${file} is not a regular file`, D);
    size = st.size;
  } catch (e) {
    if (isNodeError(e, 'ENOENT')) throw invalid('file', `${file} does not exist`, D);
    if (isNodeError(e, 'EACCES')) throw invalid('file', `${file} is not readable`, D);
    throw e;
  }
  const kind = await tarKind(file);
  const label = kind === 'rootfs' ? `importing root filesystem ${file}` : `loading image archive ${file}`;
  const body = createReadStream(file).pipe(byteCounter((done) => ctx.progress({ label, done, total: size, unit: 'bytes' })));
  const { repo, tag } = splitRef(name);
  try {
    if (kind === 'rootfs') {
      const res = (await docker.importImage(body, { repo, tag, abortSignal: ctx.signal } as object)) as Readable;
      await followJson(res, () => undefined, ctx.signal);
    } else {
      const loaded: string[] = [];
      const res = (await docker.loadImage(body, { quiet: true, abortSignal: ctx.signal } as object)) as Readable;
      await followJson(
        res,
        (m) => {
          const hit = /Loaded image(?: ID)?: (\S+)/.exec(m.stream ?? '');
          if (hit) loaded.push(hit[1]!);
        },
        ctx.signal,
      );
      const first = loaded[0];
      if (!first) throw driverError(D, 'INVALID_ARGUMENT', `file: ${file} holds no image the engine could load`);
      if (withTag(first) !== withTag(name)) await docker.getImage(first).tag({ repo, tag });
    }
  } catch (e) {
    throw engineError(e, `import ${file}`);
  }
  return inspectImage(docker, withTag(name));
}

/** Pull from a registry, where one is reachable, reporting the layers' progress. */
export async function pullImage(docker: Dockerode, ref: string, ctx: OpContext): Promise<void> {
  const layers = new Map<string, { current: number; total: number }>();
  try {
    const res = (await docker.pull(ref, { abortSignal: ctx.signal })) as Readable;
    await followJson(
      res,
      (m) => {
        if (m.id && m.progressDetail?.total) layers.set(m.id, { current: m.progressDetail.current ?? 0, total: m.progressDetail.total });
        let done = 0;
        let total = 0;
        for (const l of layers.values()) {
          done += l.current;
          total += l.total;
        }
        ctx.progress({ label: `pulling ${ref}: ${m.status ?? ''}`.trim(), done, ...(total ? { total } : {}), unit: 'bytes' });
      },
      ctx.signal,
    );
  } catch (e) {
    throw engineError(e, `pull ${ref}`);
  }
}

export async function deleteImage(docker: Dockerode, ref: string, signal: AbortSignal): Promise<void> {
  // Refs and ids both name an image; anything else never reaches the engine's URL.
  if (!/^(?:sha256:)?[0-9a-f]{12,64}$/.test(ref)) checkRef(ref, 'ref');
  await call(`delete image '${ref}'`, () => docker.getImage(ref).remove({ abortSignal: signal } as object));
}
