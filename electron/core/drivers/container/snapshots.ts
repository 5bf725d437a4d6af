import type { SnapshotInfo, WorkloadInfo } from '../../../../shared/model.js';
import { driverError } from '../../base/errors.js';
import type { OpContext } from '../driver.js';
import type { ContainerContext, Found } from './context.js';
import { call, D, engineError, statusOf } from './errors.js';
import { LABEL, snapshotRepo } from './labels.js';
import { recreate, setAside, stopQuietly } from './recreate.js';
import { infoOf } from './state.js';

/**
 * Snapshots are `docker commit`s: images named `novacron-snapshot/<name>-<id>:<snapshot>`.
 * They hold the container's filesystem, not its memory. Reverting recreates the container
 * from one with the same configuration.
 *
 * The reverted container runs from the tag `_base` (a name no snapshot can have: snapshot
 * names start with a letter or digit), so deleting the snapshot it came from only removes
 * that tag, never an image a container needs.
 */
const BASE = '_base';

const repoOf = (f: Found) => snapshotRepo(f.c.Name.replace(/^\//, ''), f.local);
const name = (f: Found) => f.c.Name.replace(/^\//, '');

export function snapshotOps(ctx: ContainerContext) {
  const list = async (local: string, signal: AbortSignal): Promise<SnapshotInfo[]> => {
    const f = await ctx.find(local, signal);
    const repo = repoOf(f);
    const images = await call('snapshots', () => f.engine.docker.listImages({ filters: { reference: [repo] }, abortSignal: signal } as object));
    const out: SnapshotInfo[] = [];
    for (const img of images) {
      for (const t of img.RepoTags ?? []) {
        if (!t.startsWith(`${repo}:`) || t === `${repo}:${BASE}`) continue;
        out.push({ name: t.slice(repo.length + 1), createdAt: new Date(img.Created * 1000).toISOString(), sizeBytes: img.Size, kind: 'filesystem image (docker commit)' });
      }
    }
    return out.sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? '') || a.name.localeCompare(b.name));
  };

  return {
    list,

    create: async (local: string, snap: string, op: OpContext): Promise<SnapshotInfo> => {
      // A recent sighting says which container and its name: the commit itself fails (404) when it
      // was recreated since, and is then made on the container found afresh.
      const { f, result: Id } = await ctx.onRecent(local, op.signal, async (f) => {
        const repo = repoOf(f);
        // A commit onto an existing tag would move it silently: the name must be free.
        const taken = await f.engine.docker.getImage(`${repo}:${snap}`).inspect().then(
          () => true,
          (e: unknown) => (statusOf(e) === 404 ? false : Promise.reject(engineError(e, 'snapshots'))),
        );
        if (taken) throw driverError(D, 'CONFLICT', `'${name(f)}' already has a snapshot named '${snap}'`);
        op.progress({ label: `committing ${name(f)}`, done: 0, unit: 'steps' });
        const made = (await call('commit', () =>
          f.container.commit({ repo, tag: snap, comment: `NovaCron snapshot '${snap}' of ${name(f)}`, pause: true, abortSignal: op.signal } as object),
        )) as { Id: string };
        return made.Id;
      });
      const img = await call('snapshots', () => f.engine.docker.getImage(Id).inspect());
      return { name: snap, createdAt: new Date(img.Created).toISOString(), sizeBytes: img.Size, kind: 'filesystem image (docker commit)' };
    },

    revert: async (local: string, snap: string, op: OpContext): Promise<WorkloadInfo> => {
      return ctx.exclusive(local, `revert by ${op.origin}`, async () => {
        const f = await ctx.find(local, op.signal);
        const repo = repoOf(f);
        const image = `${repo}:${snap}`;
        const docker = f.engine.docker;
        const snapImage = await docker
          .getImage(image)
          .inspect()
          .catch((e: unknown) => {
            throw statusOf(e) === 404 ? driverError(D, 'NOT_FOUND', `'${name(f)}' has no snapshot '${snap}'`) : engineError(e, 'snapshot');
          });
        const wasRunning = f.c.State.Running;
        const oldImageId = f.c.Image;
        op.progress({ label: `stopping ${name(f)}`, done: 1, total: 4, unit: 'steps' });
        if (wasRunning) await call('stop', () => stopQuietly(f.container));
        const aside = await setAside(f.container, name(f));
        try {
          await call('tag', () => docker.getImage(snapImage.Id).tag({ repo, tag: BASE }));
          op.progress({ label: `recreating ${name(f)} from '${snap}'`, done: 2, total: 4, unit: 'steps' });
          const created = await recreate(f.engine, f.c, `${repo}:${BASE}`, local, { start: wasRunning, labels: { [LABEL.revertedTo]: snap } }, op);
          op.progress({ label: 'removing the old container', done: 3, total: 4, unit: 'steps' });
          await call('remove old', () => f.container.remove({ force: true, v: false }));
          // The image the old container ran from, if nothing else names or uses it now.
          if (oldImageId !== snapImage.Id) await docker.getImage(oldImageId).remove().catch(() => undefined);
          return infoOf(await created.inspect(), ctx.label(f));
        } catch (e) {
          // Put the old container back as it was.
          await f.container.rename({ name: name(f) }).catch(() => undefined);
          if (wasRunning) await f.container.start().catch(() => undefined);
          throw engineError(e, `revert '${name(f)}' to '${snap}' (the container is back as it was; it was renamed ${aside} meanwhile)`);
        }
      });
    },

    delete: async (local: string, snap: string, op: OpContext): Promise<void> => {
      const f = await ctx.find(local, op.signal);
      const ref = `${repoOf(f)}:${snap}`;
      try {
        await f.engine.docker.getImage(ref).remove({ abortSignal: op.signal } as object);
      } catch (e) {
        if (statusOf(e) === 404) throw driverError(D, 'NOT_FOUND', `'${name(f)}' has no snapshot '${snap}'`);
        throw engineError(e, `delete snapshot '${snap}'`);
      }
    },

    /** The tags of a workload's snapshot images: with the workload go its snapshots (removeAll). */
    listAll: async (f: Found): Promise<string[]> => {
      const repo = repoOf(f);
      const images = await f.engine.docker.listImages({ filters: { reference: [repo] } } as object).catch(() => []);
      return images.flatMap((img) => (img.RepoTags ?? []).filter((t) => t.startsWith(`${repo}:`)));
    },
    /** An image still in use by another container stays. */
    removeAll: async (f: Found, tags: string[]): Promise<void> => {
      // One after another, as made: a later snapshot's image may be a child of an earlier one.
      for (const t of tags) await f.engine.docker.getImage(t).remove().catch(() => undefined);
    },
  };
}
