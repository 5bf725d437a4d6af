import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import { busyboxImage, cleanupPrefix, docker, dockerWhy, secondEngine } from '../helpers/docker.js';
import { describeWith } from '../helpers/engines.js';
import { tempHome } from '../helpers/home.js';
import { describeFigures, lookup, trialTests, withFreshCore, type OpFigures, type TrialEnv, type TrialSpec } from './trials.js';
import { cliStartupMs } from './victims.js';
import { observeWorld } from './world.js';

/**
 * kill -9 of NovaCron (CLI, headless server, desktop core) inside create, start, snapshot
 * (docker commit), cold migration (to a second, private dockerd and back) and delete of
 * containers with the busybox image: afterwards every container is listed with its true
 * state on the engine it really lives on, none is lost or doubled across the two engines,
 * and the operation either completed or left things as they were.
 */
const P = `kc${randomBytes(2).toString('hex')}-`;
const home = tempHome('nc-kc-');
const figures: OpFigures[] = [];
let t: TrialEnv;
let image = '';
let second: Awaited<ReturnType<typeof secondEngine>>;
const shared = docker();
const label = (n: number) => (n < 0 ? 'x' : String(n));
const env = { ...home.env, NOVACRON_NODE_ID: `nc-kc-${P}` };

// No network: the private engine has no bridge (its dockerd runs with --bridge=none), and a migration needs the same networks on both.
const spec = (name: string) => ({ driver: 'container', name, image, cmd: 'sleep', args: ['3600'], network: 'none' });
const argv = (name: string) => ['create', '--driver', 'container', '--name', name, '--image', image, '--cmd', 'sleep', '--arg', '3600', '--network', 'none'];

/** A container that ends at SIGTERM (a shell with a trap), so a migration's stop takes a moment, not the full grace. */
const polite = (name: string) => ({ ...spec(name), cmd: 'sh', args: ['-c', 'trap "exit 0" TERM; while :; do sleep 1; done'] });

async function container(client: NovaClient, name: string, running: boolean, make = spec): Promise<string> {
  const { workloads } = await client.call('workloads.list', { driver: 'container' });
  let w = workloads.find((x) => x.name === name);
  if (!w) w = await client.call('workloads.create', make(name) as never);
  if (running && w.state !== 'running') await client.call('workloads.start', { id: w.id });
  if (!running && w.state === 'running') await client.call('workloads.stop', { id: w.id, force: true });
  return w.id;
}

const create: TrialSpec<{ name: string }> = {
  driver: 'container',
  op: 'create',
  async prepare(n) {
    const name = `${P}c-${label(n)}`;
    return { op: { method: 'workloads.create', input: spec(name), argv: argv(name) }, before: { name } };
  },
  async outcome(world, { name }) {
    const ws = world.workloads.filter((w) => w.name === name);
    if (ws.length === 0) return 'as before';
    if (ws.length > 1) return `${ws.length} containers named ${name}`;
    return ws[0]!.state !== 'running' ? 'completed' : `created ${ws[0]!.state}`;
  },
  async reset(world, { name }, client) {
    for (const w of world.workloads.filter((x) => x.name === name)) await client.call('workloads.delete', { id: w.id, force: true });
  },
};

const start: TrialSpec<{ id: string }> = {
  driver: 'container',
  op: 'start',
  async prepare(_n, client) {
    const id = await container(client, `${P}s`, false);
    return { op: { method: 'workloads.start', input: { id }, argv: ['start', id] }, before: { id } };
  },
  async outcome(world, { id }) {
    const w = lookup(world, id);
    if (!w) return `${id} is gone`;
    return w.state === 'running' ? 'completed' : w.state === 'stopped' || w.state === 'exited' ? 'as before' : `left ${w.state}`;
  },
  async reset(world, { id }, client) {
    if (lookup(world, id)?.state === 'running') await client.call('workloads.stop', { id, force: true });
  },
};

const snapshot: TrialSpec<{ id: string; name: string }> = {
  driver: 'container',
  op: 'snapshot',
  async prepare(n, client) {
    const id = await container(client, `${P}snap`, true);
    const name = `s${label(n)}`;
    return { op: { method: 'snapshots.create', input: { id, name }, argv: ['snapshot', id, '--name', name] }, before: { id, name } };
  },
  async outcome(world, { id, name }, client) {
    const w = lookup(world, id);
    if (!w) return `${id} is gone`;
    // docker commit pauses the container for the copy; the engine unpauses it when done, whoever asked.
    if (w.state !== 'running') return `left ${w.state}`;
    const snaps = await client.call('snapshots.list', { id });
    return snaps.some((s) => s.name === name) ? 'completed' : 'as before';
  },
  async reset(_world, { id, name }, client) {
    if ((await client.call('snapshots.list', { id })).some((s) => s.name === name)) await client.call('snapshots.delete', { id, name });
  },
};

const migrate: TrialSpec<{ id: string; from: string; to: string }> = {
  driver: 'container',
  op: 'migrate',
  async prepare(_n, client) {
    const id = await container(client, `${P}mig`, true, polite);
    const away = (await client.call('workloads.inspect', { id })).runtime.engine as string;
    const home = 'unix:///var/run/docker.sock';
    const to = away === second.address ? home : second.address;
    return { op: { method: 'workloads.migrate', input: { id, to }, argv: ['migrate', id, '--to', to] }, before: { id, from: away, to } };
  },
  async outcome(world, { id, from, to }, client) {
    const w = lookup(world, id);
    if (!w) return `${id} is gone`;
    if (w.state !== 'running') return `left ${w.state} (${w.summary}; migrations in the journal: ${journal().join(', ') || 'none'})`;
    const now = (await client.call('workloads.inspect', { id })).runtime.engine;
    return now === to ? 'completed' : now === from ? 'as before' : `on ${String(now)}`;
  },
  async reset() {},
};

const journal = () => (existsSync(join(home.home, 'container', 'migrations')) ? readdirSync(join(home.home, 'container', 'migrations')).filter((f) => f.endsWith('.json')) : []);

const remove: TrialSpec<{ id: string; name: string }> = {
  driver: 'container',
  op: 'delete',
  async prepare(n, client) {
    const name = `${P}d-${label(n)}`;
    const { id } = await client.call('workloads.create', spec(name) as never);
    return { op: { method: 'workloads.delete', input: { id }, argv: ['rm', id] }, before: { id, name } };
  },
  async outcome(world, { id }) {
    const w = lookup(world, id);
    if (!w) return 'completed';
    return w.state !== 'running' ? 'as before' : `left ${w.state}`;
  },
  async reset(world, { id }, client) {
    if (lookup(world, id)) await client.call('workloads.delete', { id, force: true });
  },
};

describeWith('dockerd', dockerWhy(), 'kill -9 inside container operations', () => {
  beforeAll(async () => {
    image = await busyboxImage(shared, `${P}img/busybox:1`);
    second = await secondEngine(`nc-kc-${P.slice(0, -1)}`);
    t = { env, cliStartup: await cliStartupMs(env), observe: (client) => observeWorld(client, home.home, { engines: [shared, second.docker], containerPrefix: P }) };
  }, 120_000);
  afterAll(async () => {
    for (const f of figures) console.log(`kill -9 figures: ${describeFigures(f)}`);
    await cleanupPrefix(shared, P);
    await second?.stop();
    home.cleanup();
  }, 120_000);

  it('finishes a migration whose NovaCron died between removing the source and recording the move (the narrowest window, forced)', async () => {
    await withFreshCore(env, async (client) => {
      const id = await container(client, `${P}win`, true, polite);
      const local = id.slice('container:'.length);
      await client.call('workloads.migrate', { id, to: second.address });
      // Now undo the last step, as a kill just before it would have: no record of the move, and the journal still there.
      const placements = join(home.home, 'container', 'placements.json');
      const moved = JSON.parse(readFileSync(placements, 'utf8')) as Record<string, unknown>;
      delete moved[local];
      writeFileSync(placements, JSON.stringify(moved));
      writeFileSync(
        join(home.home, 'container', 'migrations', `${local}.json`),
        JSON.stringify({ local, name: `${P}win`, from: 'unix:///var/run/docker.sock', to: second.address, ref: `novacron-migration/x-${local}:gone`, wasRunning: true, startedAt: new Date().toISOString() }),
      );
      const { workloads } = await client.call('workloads.list', { driver: 'container' });
      expect(workloads.find((w) => w.id === id)).toMatchObject({ state: 'running', summary: expect.stringContaining(`on ${second.address}`) });
      expect(journal()).toEqual([]);
      await client.call('workloads.delete', { id, force: true });
    });
  });

  trialTests([create, start, snapshot, migrate, remove] as TrialSpec<never>[], () => t, figures, 'none lost or doubled across engines', 180_000);
});
