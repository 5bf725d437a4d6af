import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { NovaError } from '../../base/errors.js';
import { readJsonSync, writeJsonAtomic } from '../../base/fsx.js';
import { withLock } from '../../base/lock.js';

export interface Placement {
  /** The engine the workload now lives on, as an address (unix://…, tcp://…, ssh://…). */
  engine: string;
  movedAt: string;
}

/**
 * Where migrated containers live. A workload keeps its id when it moves (the id is the
 * `io.novacron.id` label, carried over); this small record in the data dir says which
 * engine to ask for it. Workloads without a record live on the configured engine.
 * Every NovaCron process reads the file afresh, so the desktop sees what the CLI moved.
 */
export class Placements {
  private readonly file: string;
  private cache: Record<string, Placement> = {};

  constructor(private readonly dir: string) {
    this.file = join(dir, 'placements.json');
  }

  async all(): Promise<Record<string, Placement>> {
    // Read before every lookup (another process may have moved a workload): a small file, or
    // none, read synchronously rather than through four threadpool trips.
    this.cache = readJsonSync<Record<string, Placement>>(this.file) ?? {};
    return this.cache;
  }

  /** The last read, for synchronous decisions (which metrics source to use). */
  cached(local: string): Placement | undefined {
    return this.cache[local];
  }

  async get(local: string): Promise<Placement | undefined> {
    return (await this.all())[local];
  }

  /** Record a move; `engine` undefined means back home to the configured engine. */
  async set(local: string, engine: string | undefined): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const write = () =>
      withLock(join(this.dir, 'placements.lock'), 'placements', 'container placements', async () => {
        const now = await this.all();
        if (engine === undefined) delete now[local];
        else now[local] = { engine, movedAt: new Date().toISOString() };
        await writeJsonAtomic(this.file, now);
        this.cache = now;
      });
    // Writers hold the lock for milliseconds: wait for one rather than fail the move.
    for (let i = 0; ; i++) {
      try {
        return await write();
      } catch (e) {
        if (!(e instanceof NovaError && e.code === 'CONFLICT') || i >= 50) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}
