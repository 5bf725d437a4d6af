import { randomBytes } from 'node:crypto';
import { closeSync, fdatasync, fsync, lstatSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFile, writeFileSync, type Dirent } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { basename, dirname, join } from 'node:path';
import { isNodeError } from './errors.js';

/**
 * A durable write makes its metadata steps (open, close, rename) synchronously, and its
 * data step too up to this size; only the fsyncs (and a larger write, such as a
 * diagnostics bundle, which could stall the event loop) go through the thread pool. Each
 * such step is a few µs in the page cache, where a trip through the pool costs tens of µs,
 * more when the CPU is cold: a VM's create makes five files and dirs durable, and its
 * answer waited for some twenty trips (~0.3–0.4 ms of ~4 ms, bench kvm create).
 */
const SMALL_WRITE = 64 * 1024;

const fsyncFd = promisify(fsync);
const fdatasyncFd = promisify(fdatasync);
const writeFd = promisify(writeFile) as (fd: number, data: string | Uint8Array) => Promise<void>;

/**
 * Make a new file (it exists once this has been called: the open is synchronous), write
 * and (unless told not to) fsync it; the fd is closed however it ends. A failure after the
 * file was made removes it when `removeOnFailure`.
 */
async function writeNew(path: string, data: string | Uint8Array, mode: number, sync: boolean, removeOnFailure = false): Promise<void> {
  const fd = openSync(path, 'wx', mode);
  try {
    if (data.length <= SMALL_WRITE) writeFileSync(fd, data);
    else await writeFd(fd, data);
    if (sync) await fsyncFd(fd);
  } catch (e) {
    if (removeOnFailure) rmSync(path, { force: true });
    throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * Write a file so that a reader (or a crash) only ever sees the old or the new content:
 * temp file in the same dir, fsync, rename, fsync the dir.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, opts: AtomicOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  await writeNew(tmp, data, mode, opts.syncFile !== false, true);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (opts.syncDir !== false) await syncDir(dir);
}

/**
 * Write a new file and make it durable (fsync), without the temp file and rename: for a
 * file in a directory nobody reads yet (a workload being assembled), which the caller
 * fsyncs once every file in it is made (the file exists once this has been called, so
 * that fsync may go alongside this one's).
 */
export function writeFileSynced(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  return writeNew(path, data, mode, true);
}

/**
 * Hands over an fsync a builder started and did not wait for: whoever assembles the files
 * waits for it alongside its own, before anything is renamed into place.
 */
export type DeferSync = (sync: Promise<void>) => void;

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

/**
 * Files up to this size are unlinked synchronously, a syscall of a few µs each: Node's
 * recursive rm makes some three thread-pool trips per entry (a VM's folder of seven
 * small files took ~1.5 ms). A larger file (a disk image, whose many extents the kernel
 * frees as it goes) is unlinked on the thread pool.
 */
const SMALL_UNLINK = 8 * 1024 * 1024;

/** Remove a directory tree (or a file); one that is not there is fine, as with rm -rf. */
export async function removeTree(path: string): Promise<void> {
  let entries: Dirent[];
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch (e) {
    // A file: removed as rm would. Not there: nothing to do.
    if (isNodeError(e, 'ENOTDIR')) return rm(path, { force: true });
    if (absent(e)) return;
    throw e;
  }
  await Promise.all(
    entries.map(async (d) => {
      const p = join(path, d.name);
      if (d.isDirectory()) return removeTree(p);
      if ((lstatSync(p, { throwIfNoEntry: false })?.size ?? 0) > SMALL_UNLINK) return rm(p, { force: true });
      try {
        unlinkSync(p);
      } catch (e) {
        if (!absent(e)) throw e;
      }
    }),
  );
  try {
    rmdirSync(path);
  } catch (e) {
    if (!absent(e)) throw e;
  }
}

/** Open a path read-only and sync it with `sync`: only the sync goes through the thread pool. */
async function syncPath(path: string, sync: (fd: number) => Promise<void>): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    await sync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a directory (its entries), or any path opened read-only. */
export const syncDir = (dir: string): Promise<void> => syncPath(dir, fsyncFd);

/** fdatasync a file by its path: its data and what reading it back needs (its size), not its times. */
export const syncFileData = (path: string): Promise<void> => syncPath(path, fdatasyncFd);

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
