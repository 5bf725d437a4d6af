import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { toDisposable, type Disposable } from '../../base/lifecycle.js';
import { PinnedSet } from '../../base/pinned.js';
import type { RawSample } from '../driver.js';
import type { ContainerContext, Found } from './context.js';
import { isLocal, parseEngineAddress } from './engine.js';
import { call } from './errors.js';
import { cgroupFilesOf, engineSample, PinnedCgroup, type EngineStats } from './stats.js';

/**
 * Metrics for watched containers. On an engine of this machine the metrics service polls
 * `sample()` once a second and we read the container's cgroup files, kept open between
 * readings: no engine call at all once the container is known, a few preads per second.
 * Elsewhere `watch()` opens the engine's stats stream, one per watched container (the
 * service shares it between watchers).
 */
export class ContainerMetrics {
  private readonly pinned = new PinnedSet<PinnedCgroup>();

  constructor(private readonly ctx: ContainerContext) {}

  /** Whether the cheap path applies: the workload's engine runs here. Sync, from the last placements read. */
  local(local: string): boolean {
    const p = this.ctx.placements.cached(local);
    return isLocal(p ? parseEngineAddress(p.engine) : this.ctx.home);
  }

  async sample(local: string, signal: AbortSignal): Promise<RawSample> {
    const hit = this.pinned.get(local)?.sample();
    if (hit) return hit;
    // Unknown, or its cgroup went away (stopped, restarted): ask the engine where it is now.
    this.pinned.delete(local);
    const found = await this.ctx.find(local, signal);
    const { c } = found;
    if (!c.State.Running) return { ts: Date.now(), cpuNs: 0, memoryBytes: 0, source: 'not running' };
    if (isLocal(found.engine.address) && c.State.Pid > 0) {
      const files = await readFile(`/proc/${c.State.Pid}/cgroup`, 'utf8').then((t) => cgroupFilesOf(t, c.Id), () => undefined);
      const pinned = files && PinnedCgroup.open(files, c.State.Pid);
      const s = pinned?.sample();
      if (pinned && s) {
        this.pinned.set(local, pinned);
        return s;
      }
      // Files not readable here (another cgroup namespace, say): the engine knows.
      pinned?.dispose();
    }
    return this.fromEngine(found, signal);
  }

  private async fromEngine(found: Found, signal: AbortSignal): Promise<RawSample> {
    // one-shot: the engine answers at once instead of waiting for a second reading; the
    // metrics service derives the CPU rate from the cumulative CPU time.
    const s = (await call('stats', () =>
      found.container.stats({ stream: false, 'one-shot': true, abortSignal: signal } as { stream: false }),
    )) as EngineStats;
    return engineSample(s, 'engine API');
  }

  /** The engine's stats stream, for containers on engines elsewhere; undefined means "poll sample()". */
  watch(local: string, onSample: (s: RawSample) => void, onError: (e: unknown) => void): Disposable | undefined {
    if (this.local(local)) return undefined;
    const ac = new AbortController();
    let stream: Readable | undefined;
    void (async () => {
      const found = await this.ctx.find(local, ac.signal);
      stream = (await call('stats', () => found.container.stats({ stream: true, abortSignal: ac.signal } as { stream: true }))) as unknown as Readable;
      if (ac.signal.aborted) return stream.destroy();
      let buf = '';
      stream.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) onSample(engineSample(JSON.parse(line) as EngineStats, 'engine API (stream)'));
        }
      });
      stream.on('error', (e) => {
        if (!ac.signal.aborted) onError(e);
      });
    })().catch((e: unknown) => {
      if (!ac.signal.aborted) onError(e);
    });
    return toDisposable(() => {
      ac.abort();
      stream?.destroy();
    });
  }

  forget(local: string): void {
    this.pinned.delete(local);
  }

  dispose(): void {
    this.pinned.dispose();
  }
}
