import { readFileSync, statSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join } from 'node:path';

/**
 * What a program says about itself (`qemu-system-x86_64 --version`, its machine list,
 * `runsc --version`) changes only when the program file does. It is remembered per file
 * (inode, size, mtime) in the state dir, so a CLI command or a server start does not
 * spawn every engine's binaries to ask again; installing another version changes the
 * file and the question is asked anew. Only answers of successful runs are kept.
 */
export class ToolFacts {
  private entries: Record<string, { id: string; out: string }> | undefined;
  /** Saves run one after another: each writes the whole file. */
  private saving: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string) {}

  private static readonly open = new Map<string, ToolFacts>();

  /** One per file in a process, so two drivers asking at once run a program once. */
  static at(file: string): ToolFacts {
    let f = ToolFacts.open.get(file);
    if (!f) ToolFacts.open.set(file, (f = new ToolFacts(file)));
    return f;
  }

  /** The output of `bin args` (run() runs it), from the cache when bin is still the same file. */
  async output(bin: string, args: string[], run: () => Promise<string | undefined>): Promise<string | undefined> {
    const id = identity(bin);
    const key = `${id?.path ?? bin}\0${args.join('\0')}`;
    const hit = id ? this.load()[key] : undefined;
    if (hit && hit.id === id!.id) return hit.out;
    const asking = this.asking.get(key);
    if (asking) return asking;
    const p = (async () => {
      const out = await run();
      if (out !== undefined && id) await this.save(key, { id: id.id, out }).catch(() => undefined);
      return out;
    })();
    this.asking.set(key, p);
    try {
      return await p;
    } finally {
      this.asking.delete(key);
    }
  }

  /** Runs in flight, so a second asker waits for the first answer. */
  private readonly asking = new Map<string, Promise<string | undefined>>();

  private load(): Record<string, { id: string; out: string }> {
    if (!this.entries) {
      try {
        this.entries = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, { id: string; out: string }>;
      } catch {
        this.entries = {};
      }
    }
    return this.entries;
  }

  private save(key: string, value: { id: string; out: string }): Promise<void> {
    this.entries = { ...this.load(), [key]: value };
    const write = async () => {
      await mkdir(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(this.entries));
      await rename(tmp, this.file);
    };
    this.saving = this.saving.then(write, write);
    return this.saving;
  }
}

/** The file a command name runs (PATH lookup for a bare name) and its identity. */
function identity(bin: string): { path: string; id: string } | undefined {
  const candidates = isAbsolute(bin) ? [bin] : bin.includes('/') ? [] : (process.env.PATH ?? '').split(delimiter).filter(isAbsolute).map((d) => join(d, bin));
  for (const p of candidates) {
    try {
      const st = statSync(p);
      if (st.isFile()) return { path: p, id: `${st.ino}:${st.size}:${st.mtimeMs}` };
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
