import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { WorkloadInfo } from '../../../../shared/model.js';
import { driverError, invalid } from '../../base/errors.js';
import { withLockIn } from '../../base/lock.js';
import type { DriverEnv } from '../driver.js';
import { Engines, parseEngineAddress, type Engine, type EngineAddress } from './engine.js';
import { call, D, engineError, statusOf } from './errors.js';
import { LABEL } from './labels.js';
import { MigrationJournal } from './journal.js';
import { Placements } from './placements.js';
import { infoOf } from './state.js';
import { ImageDefaults } from './image-defaults.js';
import { OwnOps } from '../common/own-ops.js';

/** A container found: the engine it lives on, its engine id and its full inspect. */
export interface Found {
  local: string;
  engine: Engine;
  /** Set when it lives on an engine other than the configured one. */
  away: boolean;
  c: Dockerode.ContainerInspectInfo;
  container: Dockerode.Container;
}

/** What every part of the driver shares: the engines, where workloads live, and how to find one. */
export class ContainerContext {
  readonly engines: Engines;
  readonly placements: Placements;
  readonly migrations: MigrationJournal;
  readonly home: EngineAddress;
  readonly dir: string;
  readonly node: string;
  /** Default commands of images creates used, while the engine's event stream can tell when they change. */
  readonly imageDefaults = new ImageDefaults();

  constructor(env: DriverEnv, load: () => Promise<typeof Dockerode>) {
    this.engines = new Engines(load);
    this.dir = join(env.paths.home, 'container');
    this.placements = new Placements(this.dir);
    this.home = parseEngineAddress(env.config['container.docker_host']);
    this.migrations = new MigrationJournal(join(this.dir, 'migrations'), {
      engine: (address) => this.engines.get(parseEngineAddress(address)),
      place: (local, engine) => this.placements.set(local, engine === this.home.text ? undefined : engine),
      lockPath: (local) => join(this.dir, 'locks', local),
    });
    this.node = env.config.node_id;
  }

  homeEngine(): Promise<Engine> {
    return this.engines.get(this.home);
  }

  /** The engine a workload lives on: a recorded placement, else the configured engine. */
  async engineOf(local: string): Promise<{ engine: Engine; away: boolean }> {
    const p = await this.placements.get(local);
    if (!p || p.engine === this.home.text) return { engine: await this.homeEngine(), away: false };
    return { engine: await this.engines.get(parseEngineAddress(p.engine)), away: true };
  }

  /** Where each workload was last found (engine, container id): the next lookup is one inspect, not a listing. */
  private readonly where = new Map<string, { engine: string; id: string }>();
  /** The last inspect of each workload this process made, for recent(). */
  private readonly last = new Map<string, { at: number; found: Found }>();

  /**
   * A workload by its local id: NovaCron's `io.novacron.id` label first (it survives
   * revert and migration), then the engine's own id or name (containers made elsewhere).
   * Once found, its container id is remembered: a recreated container (revert,
   * migration) has a new id, the old one answers 404, and the label is looked up again.
   */
  async find(local: string, signal: AbortSignal, settled = false): Promise<Found> {
    checkLocal(local);
    // Under exclusive() the journal was just settled: a second look changes nothing.
    if (!settled) await this.migrations.settle();
    const { engine, away } = await this.engineOf(local);
    const known = this.where.get(local);
    if (known && known.engine === engine.address.text) {
      const container = engine.docker.getContainer(known.id);
      try {
        const c = await container.inspect({ abortSignal: signal } as object);
        return this.remember({ local, engine, away, c, container });
      } catch (e) {
        if (statusOf(e) !== 404) throw engineError(e, `container '${local}'`);
        this.forget(local);
      }
    }
    const hits = await call(`find ${local}`, () =>
      engine.docker.listContainers({ all: true, filters: { label: [`${LABEL.id}=${local}`] }, abortSignal: signal } as Dockerode.ContainerListOptions),
    );
    const container = engine.docker.getContainer(hits[0]?.Id ?? local);
    const c = await call(`container '${local}'`, () => container.inspect({ abortSignal: signal } as object));
    return this.remember({ local, engine, away, c, container: engine.docker.getContainer(c.Id) });
  }

  /**
   * The workload as this process saw it at most maxAgeMs ago, else found afresh: for
   * operations whose engine call checks the state itself (pause, resume) and that only
   * need to know which container it is and its name.
   */
  async recent(local: string, signal: AbortSignal, maxAgeMs = 2_000, settled = false): Promise<Found> {
    const hit = this.last.get(local);
    if (hit && Date.now() - hit.at <= maxAgeMs) return hit.found;
    return this.find(local, signal, settled);
  }

  /**
   * Run op on the recently seen container; if it is gone (recreated meanwhile), find it
   * afresh and run op again. A recent sighting may be on an engine the workload has since
   * left (a migration by another process): the placement is read again (a small file, no
   * engine call) and a sighting elsewhere is not used.
   */
  async onRecent<T>(local: string, signal: AbortSignal, op: (f: Found) => Promise<T>, settled = false): Promise<{ f: Found; result: T }> {
    let f = await this.recent(local, signal, 2_000, settled);
    const { engine } = await this.engineOf(local);
    if (engine.address.text !== f.engine.address.text) f = await this.find(local, signal, settled);
    try {
      return { f, result: await op(f) };
    } catch (e) {
      if (statusOf(e) !== 404 && (e as { code?: string }).code !== 'NOT_FOUND') throw e;
      const fresh = await this.find(local, signal, settled);
      return { f: fresh, result: await op(fresh) };
    }
  }

  /** A found workload with its state as an operation just left it (the engine answered the operation itself). */
  withState(f: Found, state: Partial<Dockerode.ContainerInspectInfo['State']>): Found {
    return this.remember({ ...f, c: { ...f.c, State: { ...f.c.State, ...state } } });
  }

  forget(local: string): void {
    this.where.delete(local);
    this.last.delete(local);
  }

  /** A container this process just made on the home engine: the next lookup is one inspect, not a listing by label. */
  made(local: string, engine: Engine, c: Dockerode.ContainerInspectInfo): Found {
    return this.remember({ local, engine, away: false, c, container: engine.docker.getContainer(c.Id) });
  }

  /** A container this process just made, by its engine id: the next lookup is one inspect, not a listing by label. */
  madeId(local: string, engine: Engine, id: string): void {
    this.where.set(local, { engine: engine.address.text, id });
    this.last.delete(local);
  }

  private remember(f: Found): Found {
    this.where.set(f.local, { engine: f.engine.address.text, id: f.c.Id });
    this.last.set(f.local, { at: Date.now(), found: f });
    return f;
  }

  label(found: Pick<Found, 'away' | 'engine'>): string | undefined {
    return found.away ? found.engine.address.text : undefined;
  }

  info(found: Found): WorkloadInfo {
    return infoOf(found.c, this.label(found));
  }

  async refresh(found: Found, signal: AbortSignal): Promise<Found> {
    return this.remember({ ...found, c: await call(`container '${found.local}'`, () => found.container.inspect({ abortSignal: signal } as object)) });
  }

  /** Revert and migrate recreate the container: one at a time per workload, across processes. */
  async exclusive<T>(local: string, op: string, fn: () => Promise<T>): Promise<T> {
    checkLocal(local);
    // A migration of this workload that a killed NovaCron left half-done is finished first.
    await this.migrations.settle();
    // Tracked once the lock is ours: a call refused for a busy lock is no operation of ours on it.
    return withLockIn(join(this.dir, 'locks'), local, op, `container workload '${local}'`, () => this.ops.track(local, fn()));
  }

  /** Operations of this process under way, by local id: the event watcher reads theirs once they end (events.ts). */
  readonly ops = new OwnOps();
}

/** A local id ends up in the engine's URL path and in a lock's file name: only what a name or an id can hold. */
export function checkLocal(local: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(local) || local.includes('..')) throw invalid('id', `'${local}' is not a container id or name`, D);
}

/** Inspect many containers, a few at a time, skipping those removed meanwhile. */
export async function inspectAll(docker: Dockerode, ids: string[], signal: AbortSignal): Promise<Dockerode.ContainerInspectInfo[]> {
  const out: Dockerode.ContainerInspectInfo[] = [];
  const queue = [...ids];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      try {
        out.push(await docker.getContainer(id).inspect({ abortSignal: signal } as object));
      } catch (e) {
        // Gone between the list and the inspect: it is simply no longer there.
        if ((e as { statusCode?: number }).statusCode !== 404) throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, ids.length) }, worker));
  return out;
}

export const notFound = (local: string) => driverError(D, 'NOT_FOUND', `no container '${local}'`);
