import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import { purgeHome } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';
import { bootSectorImage, bootSectorWhy } from '../helpers/guests.js';
import { tempHome } from '../helpers/home.js';
import { qemuWhy } from '../helpers/qemu.js';
import { describeFigures, isAlive, lookup, trialTests, withFreshCore, type OpFigures, type TrialEnv, type TrialSpec } from './trials.js';
import { cliStartupMs } from './victims.js';
import { observeWorld } from './world.js';

/**
 * kill -9 of NovaCron (CLI, headless server, desktop core) inside create, start, snapshot,
 * migrate and delete of QEMU VMs (the boot-sector guest under TCG): afterwards every VM is
 * listed with its true state, no definition is corrupt, no QEMU is orphaned or doubled,
 * and the operation either completed or left the VM as it was.
 */
const why = qemuWhy() ?? bootSectorWhy();
const home = tempHome('nc-kk-');
const figures: OpFigures[] = [];
let t: TrialEnv;
let image = '';

const vmSpec = (name: string) => ({ driver: 'kvm', name, memoryMB: 32, disks: [{ base: image }], accel: 'tcg' });
const vmArgv = (name: string) => ['create', '--driver', 'kvm', '--name', name, '--memory', '32', '--base', image, '--accel', 'tcg'];
const label = (n: number) => (n < 0 ? 'x' : String(n));

/** A VM of the given name in the given state, made once and reused by every trial of an operation. */
async function vm(client: NovaClient, name: string, running: boolean): Promise<{ id: string; pid?: number }> {
  const { workloads } = await client.call('workloads.list', { driver: 'kvm' });
  let w = workloads.find((x) => x.name === name);
  if (!w) w = await client.call('workloads.create', vmSpec(name) as never);
  const live = w.state === 'running' || w.state === 'paused';
  if (running && !live) await client.call('workloads.start', { id: w.id });
  if (!running && live) await client.call('workloads.stop', { id: w.id, force: true });
  const pid = (await client.call('workloads.inspect', { id: w.id })).runtime.pid;
  return { id: w.id, ...(typeof pid === 'number' ? { pid } : {}) };
}

const create: TrialSpec<{ name: string }> = {
  driver: 'kvm',
  op: 'create',
  async prepare(n) {
    const name = `kk-c-${label(n)}`;
    return { op: { method: 'workloads.create', input: vmSpec(name), argv: vmArgv(name) }, before: { name } };
  },
  async outcome(world, { name }) {
    const ws = world.workloads.filter((w) => w.name === name);
    if (ws.length === 0) return 'as before';
    if (ws.length > 1) return `${ws.length} VMs named ${name}`;
    const disk = join(home.home, 'vms', ws[0]!.id.slice(4), 'd0.qcow2');
    if (!existsSync(disk)) return `${name} is listed without its disk`;
    return ws[0]!.state === 'stopped' ? 'completed' : `created ${ws[0]!.state}`;
  },
  async reset(world, { name }, client) {
    for (const w of world.workloads.filter((x) => x.name === name)) await client.call('workloads.delete', { id: w.id, force: true });
  },
};

const start: TrialSpec<{ id: string }> = {
  driver: 'kvm',
  op: 'start',
  async prepare(_n, client) {
    const { id } = await vm(client, 'kk-s', false);
    return { op: { method: 'workloads.start', input: { id }, argv: ['start', id] }, before: { id } };
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

const snapshot: TrialSpec<{ id: string; pid?: number; name: string }> = {
  driver: 'kvm',
  op: 'snapshot',
  async prepare(n, client) {
    const { id, pid } = await vm(client, 'kk-snap', true);
    const name = `s${label(n)}`;
    return { op: { method: 'snapshots.create', input: { id, name }, argv: ['snapshot', id, '--name', name] }, before: { id, name, ...(pid ? { pid } : {}) } };
  },
  async outcome(world, { id, pid, name }, client) {
    const w = lookup(world, id);
    if (!w) return `${id} is gone`;
    // QEMU finishes a snapshot job by itself and resumes the guest: until then the VM reads paused.
    if (w.state !== 'running') return `left ${w.state}`;
    const now = (await client.call('workloads.inspect', { id })).runtime.pid;
    if (now !== pid) return `QEMU changed from ${pid} to ${String(now)}`;
    const snaps = await client.call('snapshots.list', { id });
    return snaps.some((s) => s.name === name) ? 'completed' : 'as before';
  },
  async reset(_world, { id, name }, client) {
    const snaps = await client.call('snapshots.list', { id });
    if (snaps.some((s) => s.name === name)) await client.call('snapshots.delete', { id, name });
  },
};

const migrate: TrialSpec<{ id: string; pid?: number }> = {
  driver: 'kvm',
  op: 'migrate',
  async prepare(_n, client) {
    const { id, pid } = await vm(client, 'kk-mig', true);
    return { op: { method: 'workloads.migrate', input: { id, to: 'local' }, argv: ['migrate', id, '--to', 'local'] }, before: { id, ...(pid ? { pid } : {}) } };
  },
  async outcome(world, { id, pid }, client) {
    const w = lookup(world, id);
    if (!w) return `${id} is gone`;
    if (w.state !== 'running') return `left ${w.state}`;
    const now = (await client.call('workloads.inspect', { id })).runtime.pid;
    return now === pid ? 'as before' : 'completed';
  },
  async reset() {},
};

const remove: TrialSpec<{ id: string; name: string }> = {
  driver: 'kvm',
  op: 'delete',
  async prepare(n, client) {
    const name = `kk-d-${label(n)}`;
    const { id } = await client.call('workloads.create', vmSpec(name) as never);
    return { op: { method: 'workloads.delete', input: { id }, argv: ['rm', id] }, before: { id, name } };
  },
  async outcome(world, { id, name }) {
    const w = lookup(world, id);
    const dir = join(home.home, 'vms', id.slice(4));
    if (!w) return existsSync(dir) ? `${name} is not listed but ${dir} is still there` : 'completed';
    return w.state === 'stopped' ? 'as before' : `left ${w.state}`;
  },
  async reset(world, { id }, client) {
    if (lookup(world, id)) await client.call('workloads.delete', { id, force: true });
  },
};

describeWith('QEMU', why, 'kill -9 inside VM operations', () => {
  beforeAll(async () => {
    image = bootSectorImage();
    t = { env: home.env, cliStartup: await cliStartupMs(home.env), observe: (client) => observeWorld(client, home.home) };
  });
  afterAll(async () => {
    for (const f of figures) console.log(`kill -9 figures: ${describeFigures(f)}`);
    await purgeHome(home.env);
    home.cleanup();
  });

  it('ends the old QEMU of a local migration whose NovaCron died right after handing over (the narrowest window, forced)', async () => {
    await withFreshCore(home.env, async (client) => {
      const { id } = await vm(client, 'kk-ret', true);
      // Stands in for the source QEMU left in postmigrate: a process whose command line names this VM.
      const old = spawn('/bin/sh', ['-c', 'sleep 3600', `process=nc-${id.slice(4)}`], { detached: true, stdio: 'ignore' });
      old.unref();
      const startTicks = Number(readFileSync(`/proc/${old.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]);
      const stateFile = join(home.home, 'vms', id.slice(4), 'state.json');
      const state = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, unknown>;
      writeFileSync(stateFile, JSON.stringify({ ...state, retiring: { pid: old.pid, startTicks } }));
      const w = (await client.call('workloads.list', { driver: 'kvm' })).workloads.find((x) => x.id === id);
      expect(w?.state).toBe('running');
      await new Promise((r) => setTimeout(r, 100));
      expect(isAlive(old.pid!)).toBe(false);
      expect(JSON.parse(readFileSync(stateFile, 'utf8'))).not.toHaveProperty('retiring');
      await client.call('workloads.delete', { id, force: true });
    });
  });

  trialTests([create, start, snapshot, migrate, remove] as TrialSpec<never>[], () => t, figures, 'no QEMU orphaned or doubled, nothing corrupt', 180_000);
});
