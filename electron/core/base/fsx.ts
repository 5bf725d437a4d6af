import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isNodeError } from './errors.js';

/**
 * Write a file so that a reader (or a crash) only ever sees the old or the new content:
 * temp file in the same dir, fsync, rename, fsync the dir.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, opts: AtomicOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    if (opts.syncFile !== false) await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  if (opts.syncDir !== false) await syncDir(dir);
}

/**
 * Write a new file and make it durable (fsync), without the temp file and rename: for a
 * file in a directory nobody reads yet (a workload being assembled), which the caller
 * fsyncs once when every file in it is written.
 */
export async function writeFileSynced(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const fh = await open(path, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface AtomicOptions {
  /**
   * false: the caller fsyncs the directory itself (syncDir), later or alongside other
   * work. Until then a power loss may bring back the old file, whole: the new one is
   * already synced before the rename, so no reader ever sees a torn file.
   */
  syncDir?: boolean;
  /**
   * false: nor is the file fsync'd before its rename (the caller runs syncFile and syncDir
   * later, or never). Only for a file whose content a power loss makes moot anyway, whose
   * reader takes an empty file (what such a loss can leave before the sync) as absent.
   */
  syncFile?: boolean;
}

/** fsync a file by its path (after writeFileAtomic with syncFile false: the renamed file); the same call as a dir's. */
export const syncFile = (path: string): Promise<void> => syncDir(path);

/** writeFileAtomic's temp files a kill -9 left in dir; only old ones, a young one may be being written. */
export async function sweepTempFiles(dir: string, olderThanMs = 60_000): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names.filter((x) => /^\..+\.[0-9a-f]{12}\.tmp$/.test(x))) {
    const path = join(dir, n);
    const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > olderThanMs) await rm(path, { force: true });
  }
}

/** fsync a directory (its entries), or any path opened read-only. */
export async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

export async function writeJsonAtomic(path: string, value: unknown, opts: AtomicOptions = {}): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n', 0o600, opts);
}

/** A file that is not there (or whose directory is not) reads as undefined. */
const absent = (e: unknown) => isNodeError(e, 'ENOENT') || isNodeError(e, 'ENOTDIR');

/** A corrupt file is an error naming it, never silently empty. */
function parseJson<T>(path: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * readJson, synchronously: for many small files read at once (a listing's records), where
 * each promise read's four trips through libuv's threadpool (open, fstat, read, close) cost
 * far more than the read itself.
 */
export function readJsonSync<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (absent(e)) return undefined;
    throw e;
  }
  return parseJson<T>(path, text);
}

/** Read JSON; undefined when the file does not exist. A corrupt file is an error, never silently empty. */
export async function readJson<T>(path: string): Promise<T | undefined> {
  const text = await readFile(path, 'utf8').catch((e: unknown) => (absent(e) ? undefined : Promise.reject(e)));
  return text === undefined ? undefined : parseJson<T>(path, text);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if (isNodeError(e, 'ENOENT') || isNodeError(e, 'ENOTDIR')) return false;
    throw e;
  }
}
