import { createHash, randomBytes } from 'node:crypto';
import { constants, copyFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { driverError } from '../../base/errors.js';
import { codeFor, qemuImg } from './disks.js';

/**
 * Linked clones without a qemu-img run per VM. A fresh qcow2 overlay is a pure function of
 * what qemu-img writes in its header (the backing path as given, its format, the size) and
 * of qemu-img itself: it holds no id, no timestamp and no path of its own, so two runs of
 * `qemu-img create -b B -F F` write the same bytes wherever the overlay lives. The first
 * clone of a base is made by qemu-img, and a copy of it is kept (fsync'd, renamed into
 * place) as that base's template; the next clones are copies of the template, made
 * durable as qemu-img makes its own (fdatasync). A change of qemu-img (its file) or of the
 * base's format or size makes a new template.
 */
export class OverlayTemplates {
  constructor(private readonly dir: string) {}

  /** Write the linked clone of base at dest (a new file), through the template when there is one. */
  async clone(qemuImgBin: string, base: string, format: string, virtualSize: number, dest: string, what: string, signal?: AbortSignal): Promise<void> {
    const template = join(this.dir, `${this.key(qemuImgBin, base, format, virtualSize)}.qcow2`);
    if (statSync(template, { throwIfNoEntry: false })?.isFile()) {
      // The copy is in-kernel (copy_file_range) and small (a few clusters); the flush waits on the disk, off the event loop.
      try {
        copyFileSync(template, dest, constants.COPYFILE_EXCL);
        await syncData(dest);
      } catch (e) {
        // As qemu-img's own failure reads: a full disk is the host's state (UNAVAILABLE), with the system's words.
        const message = `${what}: copying the linked clone's template failed: ${(e as Error).message}`;
        throw driverError('kvm', codeFor(message), message);
      }
      return;
    }
    await qemuImg(qemuImgBin, ['create', '-q', '-f', 'qcow2', '-b', base, '-F', format, dest], what, signal, 'ignore');
    await this.keep(dest, template);
  }

  /** What the overlay's bytes depend on: qemu-img (the binary's file) and the header's fields. */
  private key(qemuImgBin: string, base: string, format: string, virtualSize: number): string {
    const s = statSync(qemuImgBin, { throwIfNoEntry: false });
    const tool = s ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}` : 'unknown';
    return createHash('sha256').update(JSON.stringify([qemuImgBin, tool, base, format, virtualSize])).digest('hex').slice(0, 32);
  }

  /** A copy of a clone qemu-img just made, whole or not at all: a torn template would be copied into every later VM. */
  private async keep(made: string, template: string): Promise<void> {
    // Only a cache: a template that cannot be kept (full disk, read-only dir) costs the next create a qemu-img run.
    const tmp = `${template}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      copyFileSync(made, tmp, constants.COPYFILE_EXCL);
      await syncData(tmp, true);
      renameSync(tmp, template);
    } catch {
      rmSync(tmp, { force: true });
    }
  }
}

async function syncData(path: string, all = false): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await (all ? fh.sync() : fh.datasync());
  } finally {
    await fh.close();
  }
}
