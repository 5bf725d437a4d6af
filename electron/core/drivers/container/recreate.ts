import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import type { OpContext } from '../driver.js';
import type { Engine } from './engine.js';
import { call, statusOf } from './errors.js';
import { LABEL } from './labels.js';
import { endpointOf, extraNetworks, recreateOptions } from './spec.js';

/**
 * Make a container again from another image with the same configuration, on the same
 * engine or another one, and start it if asked. Returns the new container; on failure
 * removes whatever it made and rethrows.
 */
export async function recreate(
  target: Engine,
  c: Dockerode.ContainerInspectInfo,
  image: string,
  local: string,
  opts: { start: boolean; labels?: Record<string, string> },
  ctx: OpContext,
): Promise<Dockerode.Container> {
  const was = c.Config.Labels ?? {};
  const body = recreateOptions(c, image, { [LABEL.id]: local, [LABEL.image]: was[LABEL.image] ?? c.Config.Image, ...opts.labels });
  const created = await call('create', () => target.docker.createContainer({ ...body, abortSignal: ctx.signal }));
  try {
    for (const net of extraNetworks(c)) {
      const ep = endpointOf(c, net);
      await call(`connect to network ${net}`, () =>
        target.docker.getNetwork(net).connect({ Container: created.id, EndpointConfig: { ...(ep?.Aliases ? { Aliases: ep.Aliases.filter((a: string) => a !== c.Id.slice(0, 12)) } : {}) } }),
      );
    }
    if (opts.start) {
      ctx.progress({ label: 'starting', done: 0, unit: 'steps' });
      await call('start', () => created.start());
      const now = await call('inspect', () => created.inspect());
      // "Runs" means runs: a container that exits at once has not taken over.
      if (!now.State.Running) throw new Error(`the new container did not keep running (${now.State.Error || `exit status ${now.State.ExitCode}`})`);
    }
    return created;
  } catch (e) {
    await created.remove({ force: true, v: false }).catch(() => undefined);
    throw e;
  }
}

/** Move the name aside, so the new container can take it while the old one still exists. */
export async function setAside(container: Dockerode.Container, name: string): Promise<string> {
  const aside = `${name}-nc-old-${randomBytes(3).toString('hex')}`;
  await call('rename', () => container.rename({ name: aside }));
  return aside;
}

/**
 * Stop with signals we send ourselves: SIGTERM, then SIGKILL after t seconds. Unlike the
 * engine's stop, nothing stays in flight in the engine when NovaCron dies meanwhile, so
 * whoever finishes an interrupted migration sees the container as it will stay.
 */
export async function stopBySignals(container: Dockerode.Container, t: number, signal: AbortSignal): Promise<void> {
  const running = async () => (await container.inspect()).State.Running;
  const kill = (sig: string) =>
    container.kill({ signal: sig }).catch((e: unknown) => {
      if (statusOf(e) !== 409 && statusOf(e) !== 304) throw e; // not running (any more)
    });
  if (!(await running())) return;
  await kill('SIGTERM');
  const deadline = Date.now() + t * 1000;
  while (Date.now() < deadline && !signal.aborted) {
    if (!(await running())) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  signal.throwIfAborted();
  await kill('SIGKILL');
  for (let i = 0; i < 100 && (await running()); i++) await new Promise((r) => setTimeout(r, 50));
}

export async function stopQuietly(container: Dockerode.Container, t = 10): Promise<void> {
  try {
    await container.stop({ t });
  } catch (e) {
    if (statusOf(e) !== 304) throw e;
  }
}
