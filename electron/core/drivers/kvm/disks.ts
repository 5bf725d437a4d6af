import { accessSync, constants, statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { KvmDiskSpec } from '../../../../shared/drivers/kvm.js';
import { driverError, invalid, NovaError } from '../../base/errors.js';
import type { DeferSync } from '../../base/fsx.js';
import { run } from '../../base/run.js';
import type { OpContext } from '../driver.js';
import type { OverlayTemplates } from './overlays.js';
import type { VmDisk } from './store.js';

const D = 'kvm';
const GiB = 1024 ** 3;

/** A file the VM will read: it must exist, be a regular file, and be readable by us (and so by QEMU). */
export async function checkReadableFile(field: string, path: string, writable = false): Promise<void> {
  // Synchronous: two metadata syscalls, cheaper than two trips through the threadpool.
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw invalid(field, `${path} does not exist`, D);
  if (!st.isFile()) throw invalid(field, `${path} is not a regular file`, D);
  try {
    accessSync(path, constants.R_OK | (writable ? constants.W_OK : 0));
  } catch {
    throw invalid(field, `${path} is not ${writable ? 'readable and writable' : 'readable'}`, D);
  }
  return Promise.resolve();
}

export interface ImageInfo {
  format: string;
  'virtual-size': number;
  'actual-size'?: number;
  'backing-filename'?: string;
  snapshots?: { name: string; id: string; 'vm-state-size': number; 'date-sec': number; 'date-nsec': number }[];
}

/** qemu-img info; -U reads an image a running QEMU holds without taking its lock. */
export async function imageInfo(qemuImg: string, path: string, signal?: AbortSignal, shared = false): Promise<ImageInfo> {
  const r = await run(qemuImg, ['info', ...(shared ? ['-U'] : []), '--output=json', path], signal ? { signal } : {});
  if (r.cancelled) throw new NovaError('CANCELLED', `${path}: qemu-img info: cancelled`);
  if (r.exitCode !== 0) throw new NovaError('INVALID_ARGUMENT', `${path}: qemu-img cannot read it: ${r.stderr.trim() || r.failure || `exit status ${r.exitCode}`}`);
  return JSON.parse(r.stdout) as ImageInfo;
}

/**
 * What qemu-img said about an image this process already probed, while the file is the
 * same (device, inode, size, change time): creating clone after clone of one base image
 * asks once. Any write to the file changes its ctime, and then it is asked again.
 */
const probed = new Map<string, { stamp: string; info: ImageInfo }>();

async function imageInfoOnce(qemuImgBin: string, path: string, signal: AbortSignal): Promise<ImageInfo> {
  const s = statSync(path, { bigint: true });
  const stamp = `${s.dev}:${s.ino}:${s.size}:${s.ctimeNs}:${s.mtimeNs}`;
  const key = `${qemuImgBin}\0${path}`;
  const hit = probed.get(key);
  if (hit?.stamp === stamp) return hit.info;
  const info = await imageInfo(qemuImgBin, path, signal, true);
  if (probed.size > 256) probed.clear();
  probed.set(key, { stamp, info });
  return info;
}

/** A full disk is the host's state, not a bug: UNAVAILABLE, with QEMU's own words. */
export const codeFor = (message: string) => (/No space left on device|Disk quota exceeded|Read-only file system/i.test(message) ? 'UNAVAILABLE' : 'INTERNAL');

/** Run qemu-img, turning a failure into an error that carries qemu-img's own words. */
export async function qemuImg(bin: string, args: string[], what: string, signal?: AbortSignal, stdout: 'pipe' | 'ignore' = 'pipe'): Promise<string> {
  const r = await run(bin, args, { stdout, ...(signal ? { signal } : {}) });
  if (r.cancelled) throw new NovaError('CANCELLED', `${what}: cancelled`);
  if (r.exitCode !== 0) {
    const message = `${what}: qemu-img ${args[0]} failed: ${r.stderr.trim() || r.failure || (r.signal ? `killed by ${r.signal}` : `exit status ${r.exitCode}`)}`;
    throw driverError(D, codeFor(message), message);
  }
  return r.stdout;
}

/** Refuse what cannot fit: new disks are bounded by the free space where VMs live, the sum of them too. */
export async function checkDiskSpace(specs: KvmDiskSpec[], where: string): Promise<void> {
  const wanted = specs.reduce((sum, d) => sum + ('sizeGB' in d ? d.sizeGB * GiB : 0), 0);
  if (wanted === 0) return;
  const fs = await statfs(where);
  const free = fs.bavail * fs.bsize;
  if (wanted > free) {
    const i = specs.findIndex((d) => 'sizeGB' in d);
    throw invalid(`disks.${i}.sizeGB`, `${(wanted / GiB).toFixed(1)} GiB of new disks do not fit in the ${(free / GiB).toFixed(1)} GiB free at ${where}`, D);
  }
}

/** Check every disk the spec names before anything is created. */
export async function checkDiskSpecs(qemuImgBin: string, specs: KvmDiskSpec[], signal: AbortSignal): Promise<Map<number, ImageInfo>> {
  const infos = new Map<number, ImageInfo>();
  for (const [i, d] of specs.entries()) {
    if ('path' in d) {
      await checkReadableFile(`disks.${i}.path`, d.path, true);
      infos.set(i, await imageInfoOnce(qemuImgBin, d.path, signal).catch((e: Error) => Promise.reject(invalid(`disks.${i}.path`, e.message, D))));
    } else if ('base' in d) {
      await checkReadableFile(`disks.${i}.base`, d.base);
      infos.set(i, await imageInfoOnce(qemuImgBin, d.base, signal).catch((e: Error) => Promise.reject(invalid(`disks.${i}.base`, e.message, D))));
    }
  }
  return infos;
}

/** Make the VM's disks in its (still private) directory, reporting each as a step. */
export async function makeDisks(
  qemuImgBin: string,
  specs: KvmDiskSpec[],
  infos: Map<number, ImageInfo>,
  dir: string,
  ctx: OpContext,
  /** Where linked clones are copied from (kvm); without, each is a qemu-img run. */
  templates?: OverlayTemplates,
  /** Where a copied clone's fsync goes instead of being waited for here (the store waits for it with its own). */
  defer?: DeferSync,
): Promise<VmDisk[]> {
  const out: VmDisk[] = [];
  for (const [i, d] of specs.entries()) {
    ctx.signal.throwIfAborted();
    const node = `d${i}`;
    const label = (s: string) => ctx.progress({ label: `disk ${i + 1}/${specs.length}: ${s}`, done: i, total: specs.length, unit: 'steps' });
    if ('sizeGB' in d) {
      const file = `${node}.qcow2`;
      const bytes = Math.round(d.sizeGB * GiB);
      label(`new qcow2 of ${d.sizeGB} GiB`);
      await qemuImg(qemuImgBin, ['create', '-q', '-f', 'qcow2', join(dir, file), String(bytes)], `disk ${i + 1}`, ctx.signal, 'ignore');
      out.push({ node, file, format: 'qcow2', virtualSizeBytes: bytes });
    } else if ('base' in d) {
      const info = infos.get(i)!;
      const file = `${node}.qcow2`;
      label(`linked clone of ${d.base}`);
      const dest = join(dir, file);
      if (templates) await templates.clone(qemuImgBin, d.base, info.format, info['virtual-size'], dest, `disk ${i + 1}`, ctx.signal, defer);
      else await qemuImg(qemuImgBin, ['create', '-q', '-f', 'qcow2', '-b', d.base, '-F', info.format, dest], `disk ${i + 1}`, ctx.signal, 'ignore');
      out.push({ node, file, format: 'qcow2', base: d.base, virtualSizeBytes: info['virtual-size'] });
    } else {
      const info = infos.get(i)!;
      label(`existing ${info.format} image ${d.path}`);
      out.push({ node, path: d.path, format: info.format, virtualSizeBytes: info['virtual-size'] });
    }
  }
  ctx.progress({ label: 'disks ready', done: specs.length, total: specs.length, unit: 'steps' });
  return out;
}
