import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { WorkloadInfo } from '../../../../shared/model.js';
import { driverError } from '../../base/errors.js';
import type { OpContext } from '../driver.js';
import type { ContainerContext, Found } from './context.js';
import { engineInfo, parseEngineAddress, type Engine } from './engine.js';
import { call, D, engineError } from './errors.js';
import { byteCounter, followJson } from './images.js';
import { MIGRATION_STOP_SEC } from './journal.js';
import { MIGRATION_REPO, snapshotRepo } from './labels.js';
import { recreate, stopBySignals } from './recreate.js';
import { neededNetworks } from './spec.js';
import { infoOf } from './state.js';

const STEPS = 6;

/** What the target must have before we touch the source: checked first, so a refusal changes nothing. */
async function preflight(f: Found, target: Engine, signal: AbortSignal): Promise<void> {
  const name = f.c.Name.replace(/^\//, '');
  const info = await call(`target engine ${target.address.text}`, () => engineInfo(target.docker, signal));
  if (f.c.State.Paused) throw driverError(D, 'CONFLICT', `'${name}' is paused: resume it before migrating`);
  const nets = await call('target networks', () => target.docker.listNetworks({ abortSignal: signal } as object));
  const have = new Set(nets.map((n) => n.Name));
  for (const n of neededNetworks(f.c)) {
    if (!have.has(n)) throw driverError(D, 'CONFLICT', `the engine at ${target.address.text} has no network '${n}', which '${name}' uses: create it there first`);
  }
  const runtime = f.c.HostConfig.Runtime;
  if (runtime && info.Runtimes && !(runtime in info.Runtimes)) {
    throw driverError(D, 'CONFLICT', `the engine at ${target.address.text} has no runtime '${runtime}', which '${name}' uses`);
  }
  const clash = await call('target containers', () => target.docker.listContainers({ all: true, filters: { name: [`^/${name}$`] }, abortSignal: signal } as object));
  if (clash.length) throw driverError(D, 'CONFLICT', `the engine at ${target.address.text} already has a container named '${name}'`);
}

/**
 * Cold migration: stop, commit, stream the image from one engine to the other (save piped
 * into load: never the whole image in memory or in a file), recreate it there with the same
 * configuration, start it if it was running, and only then remove the source. Any failure
 * undoes what was made on the target and leaves the source as it was (running again if it
 * was running). The workload keeps its id; where it lives is recorded in the data dir.
 */
export async function migrate(ctx: ContainerContext, local: string, to: string, op: OpContext): Promise<WorkloadInfo> {
  const address = parseEngineAddress(to, 'to');
  return ctx.exclusive(local, `migrate by ${op.origin}`, async () => {
    const f = await ctx.find(local, op.signal);
    const name = f.c.Name.replace(/^\//, '');
    if (address.text === f.engine.address.text) throw driverError(D, 'INVALID_ARGUMENT', `to: '${name}' already lives on ${address.text}`);
    const target = await ctx.engines.get(address);
    const step = (n: number, label: string) => op.progress({ label, done: n, total: STEPS, unit: 'steps' });

    step(0, `checking ${address.text}`);
    await preflight(f, target, op.signal);

    const wasRunning = f.c.State.Running;
    const ref = `${snapshotRepo(name, local).replace(/^[^/]+/, MIGRATION_REPO)}:${Date.now().toString(36)}`;
    // From here on a killed NovaCron leaves work half-done: the journal lets the next one finish it (journal.ts).
    await ctx.migrations.begin({ local, name, from: f.engine.address.text, to: address.text, ref, wasRunning, startedAt: new Date().toISOString() });
    let committed = false;
    let loaded = false;
    try {
      if (wasRunning) {
        step(1, `stopping ${name}`);
        await ctx.migrations.update(local, { stopSentAt: new Date().toISOString() });
        await call('stop', () => stopBySignals(f.container, MIGRATION_STOP_SEC, op.signal));
      }
      step(2, `committing ${name}`);
      const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
      await call('commit', () => f.container.commit({ repo, tag, pause: false, abortSignal: op.signal } as object));
      committed = true;

      const size = (await call('image size', () => f.engine.docker.getImage(ref).inspect())).Size;
      const label = `copying the image to ${address.text}`;
      op.progress({ label, done: 0, total: size, unit: 'bytes' });
      const saved = (await call('save', () => f.engine.docker.getImage(ref).get())) as unknown as Readable;
      const counter = byteCounter((done) => op.progress({ label, done, total: Math.max(size, done), unit: 'bytes' }));
      const abort = () => saved.destroy(Object.assign(new Error('cancelled'), { name: 'AbortError' }));
      op.signal.addEventListener('abort', abort, { once: true });
      try {
        const loading = call('load', async () => followJson((await target.docker.loadImage(counter, { quiet: true } as object)) as Readable, () => undefined, op.signal));
        await Promise.all([pipeline(saved, counter), loading]);
      } catch (e) {
        // A failed load stops reading: release the save stream rather than stall on it.
        saved.destroy();
        counter.destroy();
        throw e;
      } finally {
        op.signal.removeEventListener('abort', abort);
      }
      loaded = true;

      step(4, `creating ${name} on ${address.text}`);
      await recreate(target, f.c, ref, local, { start: wasRunning }, op);
    } catch (e) {
      if (loaded) await target.docker.getImage(ref).remove().catch(() => undefined);
      if (committed) await f.engine.docker.getImage(ref).remove().catch(() => undefined);
      if (wasRunning) await f.container.start().catch(() => undefined);
      await ctx.migrations.end(local);
      throw engineError(e, `migrate '${name}' to ${address.text} (the source is left as it was)`);
    }

    step(5, `removing ${name} from ${f.engine.address.text}`);
    await call('remove source', () => f.container.remove({ force: true, v: false }));
    await f.engine.docker.getImage(ref).remove().catch(() => undefined);
    await ctx.placements.set(local, address.text === ctx.home.text ? undefined : address.text);
    await ctx.migrations.end(local);
    const moved = await ctx.find(local, op.signal);
    step(STEPS, `${name} now lives on ${address.text}`);
    return infoOf(moved.c, ctx.label(moved));
  });
}
