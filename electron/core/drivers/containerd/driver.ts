import type { ContainerdCreateSpec, KataCreateSpec } from '../../../../shared/drivers/containerd.js';
import { join } from 'node:path';
import { driverError } from '../../base/errors.js';
import { ToolFacts } from '../../base/tool-facts.js';
import { DisposableStore, toDisposable } from '../../base/lifecycle.js';
import { tailFile } from '../../base/tail.js';
import type { Detection, Driver, DriverEnv, LogSink } from '../driver.js';
import { OwnOps } from '../common/own-ops.js';
import { ContainerdClient, ContainerdError } from './api/client.js';
import { SNAPSHOTTER, type Family, type Profile } from './context.js';
import { stdioFiles } from './stdio.js';
import { watchEvents } from './events.js';
import { deleteImage, listImages } from './images/images.js';
import { importArchive } from './images/import.js';
import { createWorkload, deleteWorkload, freezeOwn, lockedOwn, scaleWorkload, startTask, stopTask } from './lifecycle.js';
import { see } from './sightings.js';
import { taskMetrics } from './metrics.js';
import { detectRuntimes, type Runtimes } from './runtimes.js';
import { createSnapshot, deleteAllSnapshots, deleteSnapshot, listSnapshots, revertSnapshot } from './snapshots.js';
import { settleReleases } from './lease-release.js';
import { openExec } from './terminal.js';
import { getTask, inspectWorkload, listWorkloads, observe, observeOwn, toInfo } from './workloads.js';

/** How long a runtime detection is trusted by create (the manager caches detect() itself). */
const RUNTIMES_TTL_MS = 30_000;

/**
 * The containerd family: one implementation over containerd's gRPC API, configured by
 * a profile. `containerd` offers runc, runsc (gVisor) and Kata; `kata-containers` is the
 * same driver running Kata sandboxes only, available where Kata is installed.
 */
export function containerdFamily(env: DriverEnv, profile: Profile, base: string): Driver {
  const D = profile.id;
  const f: Family = {
    profile,
    client: new ContainerdClient(env.config['containerd.address'], env.config['containerd.namespace'], D),
    base,
    snapshotter: SNAPSHOTTER,
    kataRuntimeName: env.config['kata_containers.runtime'],
    ops: new OwnOps(),
  };
  const facts = ToolFacts.at(join(env.paths.state, 'tool-facts.json'));
  let runtimes: { at: number; value: Promise<Runtimes> } | undefined;
  const found = (): Promise<Runtimes> => {
    if (!runtimes || Date.now() - runtimes.at > RUNTIMES_TTL_MS) {
      runtimes = { at: Date.now(), value: detectRuntimes(env.config['kata_containers.hypervisor'], facts) };
    }
    return runtimes.value;
  };

  const watchers = new DisposableStore();
  const info = async (local: string, signal?: AbortSignal) => {
    const o = await observe(f, local, signal);
    return toInfo(f, o.t, o.c, o.task);
  };

  const driver: Driver = {
    id: D,
    name: profile.name,
    limits: { memory: true, cpu: true },
    notImplemented: {
      console: 'containers have no display; open a terminal instead',
      migrate: 'moving a container between hosts needs checkpoint/restore (CRIU), which this host lacks',
    },

    async detect(signal): Promise<Detection> {
      let version: string;
      // The runtimes on this host are looked for while containerd is asked for its version.
      const looking = found();
      looking.catch(() => undefined); // awaited below unless containerd does not answer
      try {
        version = (await f.client.call('version.Version', {}, { signal, timeoutMs: 3000 })).version;
      } catch (e) {
        return { available: false, reason: e instanceof ContainerdError ? e.detail : (e as Error).message };
      }
      const rts = await looking;
      const offered = profile.runtimes.filter((r) => rts[r].available);
      const details: Record<string, string> = {
        address: f.client.address,
        namespace: f.client.namespace,
        snapshotter: f.snapshotter,
        runtimes: offered.join(', ') || 'none',
      };
      for (const r of profile.runtimes) details[r] = rts[r].available ? rts[r].detail ?? 'found' : `unavailable: ${rts[r].reason}`;
      if (offered.length === 0) {
        const why = profile.runtimes.map((r) => rts[r].reason).join('; ');
        return { available: false, absent: true, version, reason: why, details };
      }
      return { available: true, version, details };
    },

    list: (signal) => listWorkloads(f, signal),
    info: (local, signal) => info(local, signal),
    inspect: (local, signal) => inspectWorkload(f, local, signal),

    async create(spec, ctx) {
      return createWorkload(f, spec as ContainerdCreateSpec | KataCreateSpec, await found(), ctx);
    },

    // startTask and deleteWorkload refuse an active task themselves, on the read they make under the lock.
    refusesActive: true,

    // Each answer is built from what the operation's own calls returned (the container record
    // an update answers with, the task read once after), not from a second read of both.
    start: (local, ctx) =>
      lockedOwn(f, local, `start by ${ctx.origin}`, ctx.signal, async (o) => {
        const c = await startTask(f, o.t, ctx, o);
        const task = await getTask(f, o.t);
        see(f, o.t, c, task);
        return toInfo(f, o.t, c, task);
      }),

    stop: (local, opts, ctx) =>
      lockedOwn(f, local, `stop by ${ctx.origin}`, ctx.signal, async (o) => {
        const c = await stopTask(f, o.t, o.task, opts, ctx);
        // A stopped task is deleted: no task is what there is now.
        return toInfo(f, o.t, c ?? o.c, undefined);
      }),

    restart: (local, ctx) =>
      lockedOwn(f, local, `restart by ${ctx.origin}`, ctx.signal, async (o) => {
        const stopped = await stopTask(f, o.t, o.task, { force: false, timeoutSec: 10 }, ctx);
        const c = await startTask(f, o.t, ctx, { c: stopped ?? o.c, task: undefined });
        return toInfo(f, o.t, c, await getTask(f, o.t));
      }),

    pause: (local, ctx) => freezeOwn(f, local, 'PAUSED', `pause by ${ctx.origin}`, ctx.signal),
    resume: (local, ctx) => freezeOwn(f, local, 'RUNNING', `resume by ${ctx.origin}`, ctx.signal),

    async delete(local, opts, ctx) {
      await deleteWorkload(f, local, opts.force, ctx, (t) => deleteAllSnapshots(f, t));
    },

    scale: (local, resources, ctx) =>
      lockedOwn(f, local, `scale by ${ctx.origin}`, ctx.signal, async (o) => {
        await scaleWorkload(f, o.t, resources);
        return info(local);
      }),

    async metrics(local, signal) {
      const { t } = await observe(f, local, signal);
      return taskMetrics(f, t, signal);
    },

    logs(local, opts, sink: LogSink) {
      const store = new DisposableStore();
      let ended = 0;
      observe(f, local).then(
        ({ t, task }) => {
          const files = stdioFiles(f, t, task?.stdout);
          if (!files) {
            sink.error(driverError(D, 'NOT_SUPPORTED', `'${local}' writes its output to pipes held by whoever started it, not to files NovaCron can read`));
            return;
          }
          const streams = (['stdout', 'stderr'] as const).filter((s) => files[s] !== undefined);
          for (const stream of streams) {
            store.add(
              tailFile(
                files[stream]!,
                { follow: opts.follow, ...(opts.tail !== undefined ? { tail: opts.tail } : {}) },
                (lines) => lines.forEach((line) => sink.line({ stream, line })),
                () => {
                  if (++ended === streams.length) sink.end();
                },
                (e) => sink.error(e),
              ),
            );
          }
        },
        (e: unknown) => sink.error(e),
      );
      return store;
    },

    async terminal(local, opts, signal) {
      if (opts.kind === 'serial') throw driverError(D, 'NOT_SUPPORTED', 'containers have no serial console; open an exec terminal');
      const { t, c, task } = await observeOwn(f, local, signal);
      if (task?.status !== 'RUNNING') throw driverError(D, 'CONFLICT', `'${t.id}' is not running (${task?.status.toLowerCase() ?? 'no task'}): start it to open a terminal`);
      return openExec(f, t, c, opts, signal);
    },

    snapshots: {
      list: (local, signal) => listSnapshots(f, local, signal),
      create: (local, name, ctx) => createSnapshot(f, local, name, ctx),
      revert: (local, name, ctx) => revertSnapshot(f, local, name, ctx),
      delete: (local, name, ctx) => deleteSnapshot(f, local, name, ctx),
    },

    images: {
      list: (signal) => listImages(f, signal),
      import: (file, name, ctx) => importArchive(f, file, name, ctx),
      delete: (ref, ctx) => deleteImage(f, ref, ctx.signal),
    },

    watch(emit) {
      const sub = watchers.add(watchEvents(f, emit));
      return toDisposable(() => watchers.delete(sub));
    },

    settle: () => settleReleases(f),

    dispose() {
      // Event subscriptions end before the channel they stream over.
      watchers.dispose();
      f.client.dispose();
    },
  };
  return driver;
}
