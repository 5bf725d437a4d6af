import { readdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { NovaError } from '../../base/errors.js';
import { readJson, sweepTempFiles, writeJsonAtomic } from '../../base/fsx.js';
import { acquireLock } from '../../base/lock.js';
import type { Engine } from './engine.js';
import { statusOf } from './errors.js';
import { LABEL } from './labels.js';

/**
 * A cold migration in progress, written before it touches anything. A migration is many
 * engine calls on two engines; a NovaCron killed among them would otherwise leave the
 * source stopped, a second copy on the target, or (between removing the source and
 * recording the move) a container nobody lists. Whoever next looks at container
 * workloads (any NovaCron process: list and find run this first) finishes it: forward
 * when the source is already gone, back otherwise.
 */
export interface MigrationEntry {
  local: string;
  name: string;
  /** Engine addresses, as placements record them. */
  from: string;
  to: string;
  /** The image carried across; removed from both engines by whoever finishes. */
  ref: string;
  wasRunning: boolean;
  startedAt: string;
  /** When SIGTERM went to the source: the container may still end by it after its sender died. */
  stopSentAt?: string;
}

/** Seconds a migration gives the source between SIGTERM and SIGKILL. */
export const MIGRATION_STOP_SEC = 10;

export interface JournalHooks {
  engine(address: string): Promise<Engine>;
  /** Record where the workload lives now (undefined: home). */
  place(local: string, engine: string): Promise<void>;
  lockPath(local: string): string;
}

async function byLabel(engine: Engine, local: string): Promise<Dockerode.ContainerInfo | undefined> {
  const hits = await engine.docker.listContainers({ all: true, filters: { label: [`${LABEL.id}=${local}`] } } as Dockerode.ContainerListOptions);
  return hits[0];
}

export class MigrationJournal {
  constructor(
    private readonly dir: string,
    private readonly hooks: JournalHooks,
  ) {}

  private file(local: string): string {
    return join(this.dir, `${local}.json`);
  }

  async begin(e: MigrationEntry): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeJsonAtomic(this.file(e.local), e);
  }

  async update(local: string, patch: Partial<MigrationEntry>): Promise<void> {
    const now = await readJson<MigrationEntry>(this.file(local));
    if (now) await writeJsonAtomic(this.file(local), { ...now, ...patch });
  }

  async end(local: string): Promise<void> {
    await rm(this.file(local), { force: true });
  }

  private swept = false;

  /** Finish every migration whose NovaCron died (its lock is stale); one still running elsewhere is left alone. */
  async settle(): Promise<void> {
    if (!this.swept) {
      this.swept = true;
      await sweepTempFiles(this.dir);
    }
    // Asked before every lifecycle call, and nearly always empty or missing: one synchronous
    // syscall, where a promise readdir is a trip through libuv's threadpool.
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      names = [];
    }
    for (const n of names.filter((x) => x.endsWith('.json'))) {
      const entry = await readJson<MigrationEntry>(join(this.dir, n)).catch(() => undefined);
      if (!entry) continue;
      let lock;
      try {
        lock = await acquireLock(this.hooks.lockPath(entry.local), 'finish an interrupted migration', `container workload '${entry.local}'`);
      } catch (e) {
        if (e instanceof NovaError && e.code === 'CONFLICT') continue; // in progress, or being finished by another process
        throw e;
      }
      try {
        // Re-read under the lock: the owner may have finished it just before dying, or another process just now.
        const now = await readJson<MigrationEntry>(this.file(entry.local)).catch(() => undefined);
        if (now) await this.finish(now);
      } catch {
        // An engine that does not answer now: the entry stays, and the next look tries again.
      } finally {
        await lock.release();
      }
    }
  }

  private async finish(e: MigrationEntry): Promise<void> {
    const source = await this.hooks.engine(e.from);
    const target = await this.hooks.engine(e.to);
    const src = await byLabel(source, e.local);
    const dst = await byLabel(target, e.local);
    if (!src && dst) {
      // The source was removed: the target is the workload now. Forward.
      if (e.wasRunning && dst.State !== 'running') await target.docker.getContainer(dst.Id).start().catch(() => undefined);
      await this.hooks.place(e.local, e.to);
    } else if (src) {
      // The source is still there: back to it, and no second copy on the target.
      if (dst) await target.docker.getContainer(dst.Id).remove({ force: true, v: false });
      if (e.wasRunning) {
        const c = source.docker.getContainer(src.Id);
        // A SIGTERM its sender sent just before dying may still end the container: let it, then start it again.
        const until = e.stopSentAt ? Date.parse(e.stopSentAt) + MIGRATION_STOP_SEC * 1000 + 2_000 : 0;
        while ((await c.inspect()).State.Running && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
        if (!(await c.inspect()).State.Running) {
          await c.start().catch((err: unknown) => {
            if (statusOf(err) !== 304) throw err; // already started
          });
        }
      }
    }
    for (const engine of [source, target]) await engine.docker.getImage(e.ref).remove().catch(() => undefined);
    await this.end(e.local);
  }
}
