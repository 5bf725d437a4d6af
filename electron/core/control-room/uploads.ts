import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { NovaError } from '../base/errors.js';
import type { Disposable } from '../base/lifecycle.js';

interface Upload {
  file: string;
  size: number;
  received: number;
  done: boolean;
  /** One write at a time per upload: chunks must arrive in order anyway. */
  busy: boolean;
}

/** An upload nobody finished or discarded is removed after this long. */
const STALE_MS = 6 * 3600_000;

/**
 * Files an admin sends from the page (a rootfs tarball or an image archive to import):
 * the browser may run on another machine than the core, so a path would not do. Chunks
 * arrive in order through the contract into `$NOVACRON_HOME/uploads/`, and the finished
 * file's path goes to `images.import`. Nothing is written anywhere else.
 */
export class UploadService implements Disposable {
  private readonly open = new Map<string, Upload>();

  constructor(private readonly home: string) {}

  private get dir() {
    return join(this.home, 'uploads');
  }

  async begin(name: string, size: number): Promise<{ upload: string }> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.sweep();
    const fs = await statfs(this.dir);
    const free = fs.bavail * fs.bsize;
    if (size > free) throw new NovaError('INVALID_ARGUMENT', `size: ${name} needs ${size} bytes, ${free} are free in ${this.dir}`, { field: 'size' });
    const id = randomBytes(12).toString('hex');
    const ext = /\.(tar(\.gz)?|tgz|tar\.zst|oci)$/i.exec(name)?.[0] ?? '';
    const file = join(this.dir, `${id}${ext.toLowerCase()}`);
    await (await open(file, 'wx', 0o600)).close();
    this.open.set(id, { file, size, received: 0, done: false, busy: false });
    return { upload: id };
  }

  private get(id: string): Upload {
    const u = this.open.get(id);
    if (!u) throw new NovaError('NOT_FOUND', `upload ${id} is not open (finished, discarded, or begun by another NovaCron process)`, { field: 'upload' });
    return u;
  }

  async write(id: string, offset: number, base64: string): Promise<{ received: number }> {
    const u = this.get(id);
    if (u.done) throw new NovaError('CONFLICT', `upload ${id} is already finished`);
    if (u.busy) throw new NovaError('CONFLICT', `upload ${id}: one chunk at a time`);
    if (offset !== u.received) throw new NovaError('INVALID_ARGUMENT', `offset: expected ${u.received}, got ${offset}`, { field: 'offset' });
    const data = Buffer.from(base64, 'base64');
    if (u.received + data.length > u.size) throw new NovaError('INVALID_ARGUMENT', `data: goes past the announced size (${u.size} bytes)`, { field: 'data' });
    u.busy = true;
    try {
      const fh = await open(u.file, 'r+');
      try {
        await fh.write(data, 0, data.length, offset);
      } finally {
        await fh.close();
      }
      u.received += data.length;
    } finally {
      u.busy = false;
    }
    return { received: u.received };
  }

  async finish(id: string): Promise<{ file: string }> {
    const u = this.get(id);
    if (u.received !== u.size) throw new NovaError('CONFLICT', `upload ${id} has ${u.received} of ${u.size} bytes`);
    u.done = true;
    return { file: u.file };
  }

  async discard(id: string): Promise<null> {
    const u = this.get(id);
    this.open.delete(id);
    await rm(u.file, { force: true });
    return null;
  }

  /** Leftovers of pages that went away mid-upload, or of a crashed core. */
  private async sweep(): Promise<void> {
    const now = Date.now();
    for (const name of await readdir(this.dir).catch(() => [])) {
      const file = join(this.dir, name);
      const st = await stat(file).catch(() => undefined);
      if (st && now - st.mtimeMs > STALE_MS) {
        await rm(file, { force: true });
        for (const [id, u] of this.open) if (u.file === file) this.open.delete(id);
      }
    }
  }

  dispose(): void {
    this.open.clear();
  }
}
