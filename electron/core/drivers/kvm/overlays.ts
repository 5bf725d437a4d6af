import { createHash, randomBytes } from 'node:crypto';
import { constants, copyFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { driverError } from '../../base/errors.js';
import { syncFile, syncFileData, type DeferSync } from '../../base/fsx.js';
import { codeFor, imageInfo, qemuImg } from './disks.js';
import { readQcow2Backing } from './qcow2-header.js';

/** A template's name: its key (see templateKey) and the format. */
const TEMPLATE_NAME = /^([0-9a-f]{32})\.qcow2$/;
/** A template being saved: its name, a random tag, .tmp (see keep). */
const TEMPLATE_TMP_NAME = /^[0-9a-f]{32}\.qcow2\.[0-9a-f]{12}\.tmp$/;
/** A save takes well under a second (a few hundred KiB, one fsync): a temp file older than this was left by a kill. */
const STALE_TMP_MS = 5 * 60_000;

/** What the overlay's bytes depend on: qemu-img (the binary's file) and the header's fields. */
function templateKey(qemuImgBin: string, base: string, format: string, virtualSize: number): string {
  const s = statSync(qemuImgBin, { throwIfNoEntry: false });
  const tool = s ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}` : 'unknown';
  return createHash('sha256').update(JSON.stringify([qemuImgBin, tool, base, format, virtualSize])).digest('hex').slice(0, 32);
}

/**
 * Linked clones without a qemu-img run per VM. A fresh qcow2 overlay is a pure function of
 * what qemu-img writes in its header (the backing path as given, its format, the size) and
 * of qemu-img itself: it holds no id, no timestamp and no path of its own, so two runs of
 * `qemu-img create -b B -F F` write the same bytes wherever the overlay lives. The first
 * clone of a base is made by qemu-img, and a copy of it is kept (fsync'd, renamed into
 * place) as that base's template; the next clones are copies of the template, made
 * durable as qemu-img makes its own (fdatasync). A change of qemu-img (its file) or of the
 * base's format or size makes a new template; the old one is swept (see sweep) at the
 * first clone a process makes, in the background.
 */
export class OverlayTemplates {
  private swept: Promise<void> | undefined;

  constructor(private readonly dir: string) {}

  /**
   * Write the linked clone of base at dest (a new file), through the template when there is one. A copy's fsync
   * goes to defer when given (the caller waits for it with its other files'), else it is waited for here.
   */
  async clone(qemuImgBin: string, base: string, format: string, virtualSize: number, dest: string, what: string, signal?: AbortSignal, defer?: DeferSync): Promise<void> {
    // Not awaited: the create does not wait on the sweep, which never touches the template this create needs.
    this.swept ??= this.sweep(qemuImgBin).catch(() => undefined);
    const template = join(this.dir, `${templateKey(qemuImgBin, base, format, virtualSize)}.qcow2`);
    if (statSync(template, { throwIfNoEntry: false })?.isFile()) {
      // The copy is in-kernel (copy_file_range) and small (a few clusters); the flush waits on the disk, off the event loop.
      // As qemu-img's own failure reads: a full disk is the host's state (UNAVAILABLE), with the system's words.
      const failed = (e: unknown) => {
        const message = `${what}: copying the linked clone's template failed: ${(e as Error).message}`;
        return driverError('kvm', codeFor(message), message);
      };
      try {
        copyFileSync(template, dest, constants.COPYFILE_EXCL);
      } catch (e) {
        throw failed(e);
      }
      const synced = syncFileData(dest).catch((e: unknown) => {
        throw failed(e);
      });
      if (defer) defer(synced);
      else await synced;
      return;
    }
    await qemuImg(qemuImgBin, ['create', '-q', '-f', 'qcow2', '-b', base, '-F', format, dest], what, signal, 'ignore');
    await this.keep(dest, template);
  }

  /** A copy of a clone qemu-img just made, whole or not at all: a torn template would be copied into every later VM. */
  private async keep(made: string, template: string): Promise<void> {
    // Only a cache: a template that cannot be kept (full disk, read-only dir) costs the next create a qemu-img run.
    // Named as TEMPLATE_TMP_NAME: the sweep finds one a kill left behind.
    const tmp = `${template}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      copyFileSync(made, tmp, constants.COPYFILE_EXCL);
      await syncFile(tmp);
      renameSync(tmp, template);
    } catch {
      rmSync(tmp, { force: true });
    }
  }

  /**
   * Removes what NovaCron left here that no clone will use: temp files of saves a kill
   * interrupted (only old ones: a younger one may be another process's save in progress),
   * and templates no clone would pick now (their base is gone, or its format or size or
   * qemu-img changed, so the key a clone computes is another; or the file is not a
   * whole template). Only names this class makes; anything else in the folder is left.
   * A template made through another qemu-img than qemuImgBin (an upgraded one, or another
   * NovaCron configured with another) goes too: that one makes it again at its next clone.
   */
  async sweep(qemuImgBin: string): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      const path = join(this.dir, name);
      const key = TEMPLATE_NAME.exec(name)?.[1];
      if (key === undefined && !TEMPLATE_TMP_NAME.test(name)) continue;
      const st = await lstat(path).catch(() => undefined);
      if (!st?.isFile()) continue;
      const stale = key === undefined ? Date.now() - st.mtimeMs > STALE_TMP_MS : await orphaned(qemuImgBin, path, key, st.mtimeMs);
      if (stale) await rm(path, { force: true });
    }
  }
}

/** Whether the template at path (named key, written at madeMs) is one no clone would pick now. */
async function orphaned(qemuImgBin: string, path: string, key: string, madeMs: number): Promise<boolean> {
  const h = await readQcow2Backing(path).catch(() => null);
  if (h === null) return false; // unreadable now: cannot judge, kept
  if (h === undefined || h.backingFormat === undefined) return true;
  if (templateKey(qemuImgBin, h.backing, h.backingFormat, h.virtualSize) !== key) return true;
  const base = statSync(h.backing, { throwIfNoEntry: false });
  if (!base) return true;
  // Untouched since the template was made: its format and size are what they were.
  if (base.ctimeMs <= madeMs) return false;
  const info = await imageInfo(qemuImgBin, h.backing, undefined, true).catch(() => undefined);
  return info !== undefined && (info.format !== h.backingFormat || info['virtual-size'] !== h.virtualSize);
}

