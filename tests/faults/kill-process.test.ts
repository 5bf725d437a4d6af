import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import { purgeHome } from '../helpers/core.js';
import { tempHome } from '../helpers/home.js';
import { describeFigures, isAlive, lookup, trialTests, withFreshCore, type OpFigures, type TrialEnv, type TrialSpec } from './trials.js';
import { cliStartupMs } from './victims.js';
import { observeWorld } from './world.js';

/**
 * kill -9 of NovaCron (CLI, headless server, desktop core) inside create, start and
 * delete of plain process workloads. Snapshots and migration are not things a process
 * has (the driver says NOT_SUPPORTED).
 */
const home = tempHome('nc-kp-');
const tag = String(Math.floor(Math.random() * 1e6)).padStart(6, '0');
const marker = (n: number) => `3600.${tag}${String(n < 0 ? 9999 : n).padStart(4, '0')}`;
const figures: OpFigures[] = [];
let t: TrialEnv;

const createProcess = async (client: NovaClient, name: string, n: number) =>
  (await client.call('workloads.create', { driver: 'process', name, cmd: '/bin/sleep', args: [marker(n)] })).id;

const create: TrialSpec<{ name: string }> = {
  driver: 'process',
  op: 'create',
  async prepare(n) {
    const name = `kp-c-${n < 0 ? 'x' : n}`;
    return {
      op: { method: 'workloads.create', input: { driver: 'process', name, cmd: '/bin/sleep', args: [marker(n)] }, argv: ['create', '--driver', 'process', '--name', name, '--cmd', '/bin/sleep', '--arg', marker(n)] },
      before: { name },
    };
  },
  async outcome(world, { name }) {
    const ws = world.workloads.filter((w) => w.name === name);
    if (ws.length === 0) return 'as before';
    if (ws.length > 1) return `${ws.length} workloads named ${name}`;
    return ws[0]!.state === 'stopped' ? 'completed' : `created ${ws[0]!.state}`;
  },
  async reset(world, { name }, client) {
    for (const w of world.workloads.filter((x) => x.name === name)) await client.call('workloads.delete', { id: w.id, force: true });
  },
};

let startId = '';
const start: TrialSpec<{ id: string }> = {
  driver: 'process',
  op: 'start',
  async prepare(_n, client) {
    startId ||= await createProcess(client, 'kp-s', 0);
    return { op: { method: 'workloads.start', input: { id: startId }, argv: ['start', startId] }, before: { id: startId } };
  },
  async outcome(world, { id }) {
    const w = lookup(world, id);
    if (!w) return `${id} is gone`;
    return w.state === 'running' ? 'completed' : w.state === 'stopped' ? 'as before' : `left ${w.state}`;
  },
  async reset(world, { id }, client) {
    if (lookup(world, id)?.state !== 'stopped') await client.call('workloads.stop', { id, force: true });
  },
};

const remove: TrialSpec<{ id: string; name: string }> = {
  driver: 'process',
  op: 'delete',
  async prepare(n, client) {
    const name = `kp-d-${n < 0 ? 'x' : n}`;
    const id = await createProcess(client, name, n);
    return { op: { method: 'workloads.delete', input: { id }, argv: ['rm', id] }, before: { id, name } };
  },
  async outcome(world, { id, name }) {
    const w = lookup(world, id);
    const dir = join(home.home, 'processes', id.slice('process:'.length));
    if (!w) return existsSync(dir) ? `${name} is not listed but ${dir} is still there` : 'completed';
    return w.state === 'stopped' ? 'as before' : `left ${w.state}`;
  },
  async reset(world, { id }, client) {
    if (lookup(world, id)) await client.call('workloads.delete', { id, force: true });
  },
};

describe('kill -9 inside process operations', () => {
  beforeAll(async () => {
    t = {
      env: home.env,
      cliStartup: await cliStartupMs(home.env),
      observe: (client) => observeWorld(client, home.home, { sleepPrefix: `3600.${tag}` }),
    };
  });
  afterAll(async () => {
    for (const f of figures) console.log(`kill -9 figures: ${describeFigures(f)}`);
    await purgeHome(home.env);
    home.cleanup();
  });

  it('adopts a program whose NovaCron died between spawning it and recording its pid (the narrowest window, forced)', async () => {
    await withFreshCore(home.env, async (client) => {
      const id = await createProcess(client, 'kp-win', 9998);
      const local = id.slice('process:'.length);
      // What start leaves when killed right after the spawn: the nonce recorded, the program running, no pid.
      const nonce = 'f'.repeat(24);
      writeFileSync(join(home.home, 'processes', local, 'state.json'), JSON.stringify({ spawning: { at: new Date().toISOString(), nonce } }));
      const child = spawn('/bin/sleep', [marker(9998)], { detached: true, stdio: 'ignore', env: { PATH: '/usr/bin:/bin', NC_SPAWN: nonce } });
      child.unref();
      const w = (await client.call('workloads.list', { driver: 'process' })).workloads.find((x) => x.id === id);
      expect(w?.state).toBe('running');
      expect((await client.call('workloads.inspect', { id })).runtime.pid).toBe(child.pid);
      // Adopted means owned: a second start is refused, a stop ends that very process.
      await expect(client.call('workloads.start', { id })).rejects.toMatchObject({ code: 'CONFLICT' });
      await client.call('workloads.delete', { id, force: true });
      expect(isAlive(child.pid!)).toBe(false);
    });
  });

  trialTests([create, start, remove] as TrialSpec<never>[], () => t, figures, 'nothing lost, orphaned or corrupt', 120_000);
});
