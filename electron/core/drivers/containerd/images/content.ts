import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { CallOptions, ContainerdClient } from '../api/client.js';
import { isAlreadyExists, isNotFound } from '../api/client.js';
import type { WriteContentRequest, WriteContentResponse } from '../api/messages.js';

/** Manifests and configs are small; a blob this large where metadata belongs is refused. */
const METADATA_MAX = 16 * 1024 * 1024;

/** A whole blob from the content store (manifests, configs, indexes). */
export async function readBlob(client: ContainerdClient, digest: string, opts: CallOptions = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const msg of client.stream('content.Read', { digest }, opts)) {
    size += msg.data.length;
    if (size > METADATA_MAX) throw new Error(`content ${digest} is larger than ${METADATA_MAX} bytes`);
    parts.push(msg.data);
  }
  return Buffer.concat(parts);
}

export async function readJsonBlob<T>(client: ContainerdClient, digest: string, opts: CallOptions = {}): Promise<T> {
  return JSON.parse((await readBlob(client, digest, opts)).toString('utf8')) as T;
}

export async function blobInfo(client: ContainerdClient, digest: string, opts: CallOptions = {}) {
  try {
    return (await client.call('content.Info', { digest }, opts)).info ?? undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Add labels to a blob that is already stored (the garbage collector's references). */
export async function labelBlob(client: ContainerdClient, digest: string, labels: Record<string, string>, opts: CallOptions = {}): Promise<void> {
  const keys = Object.keys(labels);
  if (keys.length === 0) return;
  await client.call('content.Update', { info: { digest, labels }, update_mask: { paths: keys.map((k) => `labels.${k}`) } }, opts);
}

export interface BlobSource {
  digest: string;
  size: number;
  labels?: Record<string, string>;
  /** The bytes, in chunks of at most a few MiB. */
  chunks: () => AsyncIterable<Buffer> | Iterable<Buffer>;
}

const CHUNK = 1024 * 1024;
/** Blobs up to this size are written without a content.Info first. */
const SEND_WITHOUT_ASKING = 64 * 1024;

export function* chunksOf(buf: Buffer): Iterable<Buffer> {
  for (let at = 0; at < buf.length; at += CHUNK) yield buf.subarray(at, at + CHUNK);
}

/**
 * Put a blob into the content store through the Write stream: data in order, then a
 * commit that containerd checks against the expected digest and size. A blob already
 * stored is not sent again, only labelled.
 */
export async function writeBlob(client: ContainerdClient, blob: BlobSource, opts: CallOptions & { onBytes?: (n: number) => void } = {}): Promise<void> {
  // A small blob (a config, a manifest) is sent without asking first: one round trip less, and
  // one already stored is answered ALREADY_EXISTS at the commit and labelled below.
  if (blob.size > SEND_WITHOUT_ASKING && (await blobInfo(client, blob.digest, opts))) {
    opts.onBytes?.(blob.size);
    await labelBlob(client, blob.digest, blob.labels ?? {}, opts);
    return;
  }
  const ref = `novacron-write-${randomBytes(8).toString('hex')}`;
  const call = client.duplex<WriteContentRequest, WriteContentResponse>('content.Write', { ...opts, timeoutMs: 0 });
  const onAbort = () => call.cancel();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const done = new Promise<void>((resolve, reject) => {
    let committed = false;
    call.on('data', (res: WriteContentResponse) => {
      if (res.action === 'COMMIT') committed = true;
    });
    call.on('error', reject);
    call.on('end', () => (committed ? resolve() : reject(new Error('containerd closed the write before its commit'))));
  });
  // Without a listener a rejection before the pump finishes would be unhandled.
  done.catch(() => undefined);
  try {
    let offset = 0;
    for await (const data of blob.chunks()) {
      const more = call.write({ action: 'WRITE', ref, total: blob.size, expected: blob.digest, offset, data });
      offset += data.length;
      opts.onBytes?.(data.length);
      if (!more) await Promise.race([once(call, 'drain'), done]);
    }
    call.write({ action: 'COMMIT', ref, total: blob.size, expected: blob.digest, offset, labels: blob.labels ?? {} });
    call.end();
    await done;
  } catch (e) {
    call.cancel();
    await client.call('content.Abort', { ref }, { ...opts, signal: undefined }).catch(() => undefined);
    // Another writer stored the same blob meanwhile: what we wanted is there.
    const err = client.error('content.Write', e);
    if (isAlreadyExists(err)) {
      await labelBlob(client, blob.digest, blob.labels ?? {}, opts);
      return;
    }
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
