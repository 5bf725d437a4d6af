import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import type { ContainerCreateSpec } from '../../../../shared/drivers/container.js';
import { workloadId } from '../../../../shared/ids.js';
import type { WorkloadDetail, WorkloadInfo } from '../../../../shared/model.js';
import { driverError } from '../../base/errors.js';
import { DisposableStore } from '../../base/lifecycle.js';
import type { Driver, DriverEnv, OpContext } from '../driver.js';
import { ContainerContext, inspectAll, type Found } from './context.js';
import { detectEngine } from './detect.js';
import { parseEngineAddress, type Engine } from './engine.js';
import { call, D, engineError, statusOf } from './errors.js';
import { watchEngine } from './events.js';
import { checkRef, deleteImage, importImage, inspectImage, listImages, pullImage, withTag } from './images.js';
import { LABEL } from './labels.js';
import { containerLogs } from './logs.js';
import { ContainerMetrics } from './metrics.js';
import { migrate } from './migrate.js';
import { stopQuietly } from './recreate.js';
import { snapshotOps } from './snapshots.js';
import { configOf, createOptions } from './spec.js';
import { createdInfoOf, infoOf } from './state.js';
import { openTerminal } from './terminal.js';

const MiB = 1024 * 1024;

/**
 * Docker containers through the engine's API (dockerode; never the docker CLI). The
 * engine's container name is the workload's name; a workload's id is `container:<id>`
 * where <id> is the `io.novacron.id` label NovaCron gave it at create (kept across revert
 * and migration) or, for containers made elsewhere, the engine's short id.
 */
export async function createContainerDriver(env: DriverEnv): Promise<Driver> {
  const ctx = new ContainerContext(env, async () => (await import('dockerode')).default);
  const metrics = new ContainerMetrics(ctx);
  const snapshots = snapshotOps(ctx);
  await ctx.placements.all().catch(() => undefined);

  const home = () => ctx.homeEngine();

  /** Every container of an engine, fully inspected. */
  const containersOf = async (engine: Engine, signal: AbortSignal, filters?: Record<string, string[]>) => {
    const rows = await call(`list (${engine.address.text})`, () =>
      engine.docker.listContainers({ all: true, ...(filters ? { filters } : {}), abortSignal: signal } as Dockerode.ContainerListOptions),
    );
    return call('inspect', () => inspectAll(engine.docker, rows.map((r) => r.Id), signal));
  };

  /** Workloads that migrated to other engines; an engine that does not answer shows its rows as unknown. */
  const listAway = async (signal: AbortSignal): Promise<WorkloadInfo[]> => {
    const byEngine = new Map<string, string[]>();
    for (const [local, p] of Object.entries(await ctx.placements.all())) {
      if (p.engine !== ctx.home.text) byEngine.set(p.engine, [...(byEngine.get(p.engine) ?? []), local]);
    }
    const out: WorkloadInfo[] = [];
    for (const [address, locals] of byEngine) {
      try {
        const engine = await ctx.engines.get(parseEngineAddress(address));
        const found = await containersOf(engine, signal, { label: [LABEL.id] });
        const wanted = new Set(locals);
        for (const c of found) if (wanted.has(c.Config.Labels?.[LABEL.id] ?? '')) out.push(infoOf(c, address));
      } catch (e) {
        const why = engineError(e).message.replace(/^container: /, '');
        for (const local of locals) {
          out.push({ id: workloadId(D, local), driver: D, name: local, state: 'unknown', managed: true, summary: `on ${address}, which does not answer: ${why}` });
        }
      }
    }
    return out;
  };

  const list = async (signal: AbortSignal): Promise<WorkloadInfo[]> => {
    // Where a killed NovaCron left a migration half-done, the next look finishes it, so what is listed is where things are.
    await ctx.migrations.settle();
    const here = (await containersOf(await home(), signal)).map((c) => infoOf(c));
    return [...here, ...(await listAway(signal))].sort((a, b) => a.name.localeCompare(b.name));
  };

  const after = async (f: Found, signal: AbortSignal) => ctx.info(await ctx.refresh(f, signal));

  /** Create; an image the engine lacks is pulled, then the create is tried once more (no image inspect before every create). */
  const createPulling = async (engine: Engine, ref: string, name: string, body: Dockerode.ContainerCreateOptions, op: OpContext) => {
    try {
      return await engine.docker.createContainer({ ...body, abortSignal: op.signal });
    } catch (e) {
      if (statusOf(e) !== 404 || !/no such image/i.test(engineError(e).message)) throw engineError(e, `create '${name}'`);
    }
    await pullImage(engine.docker, ref, op);
    return call(`create '${name}'`, () => engine.docker.createContainer({ ...body, abortSignal: op.signal }));
  };

  const createAs = async (s: ContainerCreateSpec, id: string, op: OpContext): Promise<WorkloadInfo> => {
    const engine = await home();
    const body = createOptions(s, { id, origin: op.origin, node: ctx.node });
    // A container only created is answered from what was asked and the image's default command (createdInfoOf):
    // known from an earlier create while the engine's events say the image is unchanged (ImageDefaults), else
    // read alongside the create rather than an inspect after it.
    const where = engine.address.text;
    const known = s.start ? undefined : ctx.imageDefaults.get(where, s.image);
    const since = ctx.imageDefaults.generation(where);
    const reading = s.start || known ? undefined : engine.docker.getImage(s.image).inspect({ abortSignal: op.signal } as object);
    reading?.catch(() => undefined); // an image the engine lacks is pulled by the create, and read again below
    const created = await createPulling(engine, s.image, s.name, body, op);
    if (!s.start) {
      let config = known;
      if (!config) {
        const image = await reading!.catch(() => call('inspect', () => engine.docker.getImage(s.image).inspect()));
        ctx.imageDefaults.set(where, s.image, since, image);
        config = image.Config;
      }
      ctx.madeId(id, engine, created.id);
      return createdInfoOf(body, config);
    }
    try {
      await call(`start '${s.name}'`, () => created.start());
    } catch (e) {
      // `run` that cannot start leaves nothing behind.
      await created.remove({ force: true }).catch(() => undefined);
      throw e;
    }
    return ctx.info(ctx.made(id, engine, await call('inspect', () => created.inspect())));
  };

  const driver: Driver = {
    id: D,
    name: 'Docker',
    limits: { memory: true, cpu: true },
    notImplemented: { console: 'containers have no display: use the terminal' },

    detect: async (signal) => detectEngine(await home(), signal),
    list,
    info: async (local, signal) => ctx.info(await ctx.find(local, signal)),

    async inspect(local, signal): Promise<WorkloadDetail> {
      const f = await ctx.find(local, signal);
      const c = f.c;
      const ips = Object.entries(c.NetworkSettings.Networks ?? {})
        .map(([n, e]) => (e.IPAddress ? `${n}=${e.IPAddress}` : ''))
        .filter(Boolean)
        .join(', ');
      return {
        info: ctx.info(f),
        config: configOf(c),
        runtime: {
          engine: f.engine.address.text,
          container_id: c.Id,
          image_id: c.Image,
          pid: c.State.Pid || null,
          ip_addresses: ips || null,
          restart_count: c.RestartCount,
          started_at: c.State.StartedAt,
          finished_at: c.State.FinishedAt,
          log_path: c.LogPath || null,
          metrics_source: metrics.local(local) ? 'cgroup files (engine API as fallback)' : 'engine API stats stream',
        },
      };
    },

    async create(spec, op) {
      const s = spec as ContainerCreateSpec;
      checkRef(s.image, 'image');
      const id = randomBytes(6).toString('hex');
      // Under way by its id from the start: the engine sends the create's event before its answer (ctx.ops).
      return ctx.ops.track(id, createAs(s, id, op));
    },

    // Lifecycle calls on one container are one at a time across every NovaCron process (a second
    // caller gets CONFLICT at once): the engine itself answers racing calls with 500s, or hangs.
    // The engine refuses what the contract refuses, so the router reads nothing first (refusesActive):
    // start answers 304 for a running container and 409 for a paused one; remove answers 409 for
    // either without force. Both refusals become CONFLICT in the contract's words.
    refusesActive: true,

    start: (local, op) =>
      ctx.exclusive(local, `start by ${op.origin}`, async () => {
        // Which container is all start needs; the answer is inspected afresh.
        const { f } = await ctx.onRecent(
          local,
          op.signal,
          async (f) => {
            try {
              await f.container.start();
            } catch (e) {
              const name = f.c.Name.slice(1);
              if (statusOf(e) === 304) throw driverError(D, 'CONFLICT', `'${name}' is already running`);
              if (statusOf(e) === 409 && /paused/i.test(engineError(e).message)) throw driverError(D, 'CONFLICT', `'${name}' is already paused`);
              throw engineError(e, `start '${name}'`);
            }
          },
          true,
        );
        return after(f, op.signal);
      }),

    stop: (local, opts, op) =>
      ctx.exclusive(local, `stop by ${op.origin}`, async () => {
        // A recent sighting says which container; whether it runs is the engine's to say (stop
        // answers 304, kill 409 "is not running"): stopping what is stopped is not an error.
        const { f } = await ctx.onRecent(
          local,
          op.signal,
          async (f) => {
            const name = f.c.Name.slice(1);
            if (opts.force) {
              try {
                await f.container.kill({ signal: 'SIGKILL' });
              } catch (e) {
                if (statusOf(e) === 409 && /not running/i.test(engineError(e).message)) return;
                throw engineError(e, `kill '${name}'`);
              }
              // Bounded: a start by someone else right after the kill would keep "not-running" from ever coming.
              await f.container.wait({ condition: 'not-running', abortSignal: AbortSignal.any([op.signal, AbortSignal.timeout(10_000)]) } as object).catch(() => undefined);
            } else {
              op.progress({ label: `stopping ${name} (SIGTERM, SIGKILL after ${opts.timeoutSec}s)`, done: 0, total: opts.timeoutSec, unit: 'steps' });
              await call(`stop '${name}'`, () => stopQuietly(f.container, opts.timeoutSec));
            }
          },
          true,
        );
        return after(f, op.signal);
      }),

    restart: (local, op) =>
      ctx.exclusive(local, `restart by ${op.origin}`, async () => {
        const f = await ctx.find(local, op.signal, true);
        if (f.c.State.Paused) throw driverError(D, 'CONFLICT', `'${f.c.Name.slice(1)}' is paused: resume it first`);
        await call(`restart '${f.c.Name.slice(1)}'`, () => f.container.restart({ t: 10 }));
        return after(f, op.signal);
      }),

    pause: (local, op) =>
      ctx.exclusive(local, `pause by ${op.origin}`, async () => {
        // No inspect first: the engine checks the state itself and refuses with 409 "is already
        // paused" / "is not running" (→ CONFLICT, its words kept). A recent sighting says which container.
        const { f } = await ctx.onRecent(local, op.signal, (f) => call(`pause '${f.c.Name.slice(1)}'`, () => f.container.pause()), true);
        // Pausing changes nothing else: the last inspect, with the state the engine just confirmed, is the answer.
        return ctx.info(ctx.withState(f, { Status: 'paused', Running: true, Paused: true }));
      }),

    resume: (local, op) =>
      ctx.exclusive(local, `resume by ${op.origin}`, async () => {
        // As pause: the engine answers 409 "is not paused" itself.
        const { f } = await ctx.onRecent(local, op.signal, (f) => call(`unpause '${f.c.Name.slice(1)}'`, () => f.container.unpause()), true);
        return ctx.info(ctx.withState(f, { Status: 'running', Running: true, Paused: false }));
      }),

    delete: (local, opts, op) =>
      ctx.exclusive(local, `delete by ${op.origin}`, async () => {
        // The engine refuses to remove a running container without force (409): a recent sighting says which one.
        // Its snapshot images are listed while the container is removed; they go once it is gone (a reverted one runs from one).
        let listing: ReturnType<typeof snapshots.listAll> | undefined;
        const { f } = await ctx.onRecent(
          local,
          op.signal,
          (f) => {
            listing ??= snapshots.listAll(f);
            return f.container.remove({ force: opts.force, v: false }).catch((e: unknown) => {
              const name = f.c.Name.slice(1);
              const why = engineError(e).message;
              if (statusOf(e) === 409 && /running|paused|restarting/i.test(why)) {
                throw driverError(D, 'CONFLICT', `'${name}' is ${/paused/i.test(why) ? 'paused' : 'running'}: stop it first, or delete with force`);
              }
              throw engineError(e, `delete '${name}'`);
            });
          },
          true,
        );
        ctx.forget(local);
        metrics.forget(local);
        await snapshots.removeAll(f, await (listing ?? snapshots.listAll(f)));
        if (f.away) await ctx.placements.set(local, undefined);
      }),

    async scale(local, res, op) {
      const f = await ctx.find(local, op.signal);
      const h = f.c.HostConfig;
      const update: Record<string, number> = {};
      if (res.memoryMB !== undefined) {
        update.Memory = res.memoryMB * MiB;
        // Docker's default swap allowance is as much again; unlimited stays unlimited.
        update.MemorySwap = h.MemorySwap === -1 ? -1 : 2 * res.memoryMB * MiB;
      }
      if (res.cpus !== undefined) {
        // A container limited by quota/period keeps that form; the engine refuses to mix them.
        if (!h.NanoCpus && h.CpuQuota && h.CpuQuota > 0) Object.assign(update, { CpuPeriod: 100_000, CpuQuota: Math.round(res.cpus * 100_000) });
        else update.NanoCpus = Math.round(res.cpus * 1e9);
      }
      await call(`update '${f.c.Name.slice(1)}'`, () => f.container.update({ ...update, abortSignal: op.signal }));
      return after(f, op.signal);
    },

    metrics: (local, signal) => metrics.sample(local, signal),
    watchMetrics: (local, onSample, onError) => metrics.watch(local, onSample, onError),
    logs: (local, opts, sink) => containerLogs(ctx, local, opts, sink),
    terminal: (local, opts, signal) => openTerminal(ctx, local, opts, signal),
    snapshots: { list: snapshots.list, create: snapshots.create, revert: snapshots.revert, delete: snapshots.delete },
    migrate: (local, to, op) => migrate(ctx, local, to, op),

    images: {
      list: async (signal) => listImages((await home()).docker, signal),
      import: async (file, name, op) => importImage((await home()).docker, file, name, op),
      delete: async (ref, op) => deleteImage((await home()).docker, ref, op.signal),
      pull: async (ref, op) => {
        checkRef(ref, 'ref');
        const { docker } = await home();
        await pullImage(docker, ref, op);
        return inspectImage(docker, withTag(ref));
      },
    },

    dispose: () => metrics.dispose(),

    watch(emit) {
      const store = new DisposableStore();
      const watchOne = (engine: Engine, label?: string) =>
        store.add(
          watchEngine(engine, emit, {
            ...(label ? { label } : {}),
            images: ctx.imageDefaults,
            busy: (local) => ctx.ops.busy(local),
            list: (signal) => containersOf(engine, signal, label ? { label: [LABEL.id] } : undefined),
          }),
        );
      void (async () => {
        watchOne(await home());
        const away = new Set(Object.values(await ctx.placements.all()).map((p) => p.engine));
        away.delete(ctx.home.text);
        for (const a of away) watchOne(await ctx.engines.get(parseEngineAddress(a)), a);
      })().catch((e: unknown) => emit({ type: 'notice', level: 'error', message: engineError(e).message }));
      return store;
    },
  };
  return driver;
}
