import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MethodName } from '../../shared/contract/index.js';
import type { Result } from '../../shared/errors.js';
import { Core } from '../../electron/core/core.js';
import { inprocClient } from '../../electron/core/transport/inproc.js';
import type { NovaClient } from '../../shared/contract/client.js';
import { busyboxImage, cleanupPrefix, docker, dockerWhy } from '../helpers/docker.js';
import { describeWith } from '../helpers/engines.js';
import { bootSectorImage, bootSectorWhy } from '../helpers/guests.js';
import { tempHome } from '../helpers/home.js';
import { qemuWhy } from '../helpers/qemu.js';
import { SOAK } from './trials.js';
import { desktopCore, type CorePool } from './victims.js';
import { observeWorld, qemusOf } from './world.js';

/**
 * 100 lifecycle calls at once on one VM, and on one container, from several NovaCron
 * processes (desktop cores, each a full core of its own on the same data dir): never two
 * QEMUs for the VM, a final state that is true, and every caller answered with success
 * or CONFLICT, nothing else.
 */
const why = qemuWhy() ?? bootSectorWhy() ?? dockerWhy();
const P = `cc${randomBytes(2).toString('hex')}-`;
const home = tempHome('nc-cc-');
const env = { ...home.env, NOVACRON_NODE_ID: `nc-cc-${P}` };
const PROCESSES = 4;
const CALLS = 100;
const ROUNDS = SOAK ? 5 : 1;
const figures: string[] = [];
let pools: CorePool[] = [];
let core: Core;
let client: NovaClient;

type Call = { method: MethodName; input: Record<string, unknown> };
const mix = (id: string): Call[] => [
  { method: 'workloads.start', input: { id } },
  { method: 'workloads.stop', input: { id, force: true } },
  { method: 'workloads.stop', input: { id, timeoutSec: 1 } },
  { method: 'workloads.restart', input: { id } },
  { method: 'workloads.pause', input: { id } },
  { method: 'workloads.resume', input: { id } },
];

/**
 * CALLS calls, spread over the processes and over a second and a half, so they overlap
 * each other in every phase (a start still spawning QEMU, a stop waiting for it to end…);
 * the answers counted by code.
 */
async function storm(id: string, during?: () => void): Promise<{ ok: number; conflict: number; other: string[]; byMethod: Record<string, string> }> {
  const calls = Array.from({ length: CALLS }, () => mix(id)[Math.floor(Math.random() * 6)]!);
  const sampler = during ? setInterval(during, 10) : undefined;
  let results: { call: Call; r: Result<unknown> }[];
  try {
    const later = (ms: number) => new Promise((r) => setTimeout(r, ms));
    results = await Promise.all(calls.map((call, i) => later(Math.random() * 1500).then(() => pools[i % pools.length]!.call(call.method, call.input)).then((r) => ({ call, r }))));
  } finally {
    if (sampler) clearInterval(sampler);
  }
  const out = { ok: 0, conflict: 0, other: [] as string[], byMethod: {} as Record<string, string> };
  for (const { call, r } of results) {
    const key = `${call.method}${call.input.force ? ' --force' : ''}`;
    if (r.ok) out.ok++;
    else if (r.error.code === 'CONFLICT') out.conflict++;
    else out.other.push(`${key}: ${r.error.code}: ${r.error.message}`);
    const [ok, conflict] = (out.byMethod[key] ?? '0/0').split('/').map(Number) as [number, number];
    out.byMethod[key] = r.ok ? `${ok + 1}/${conflict}` : r.error.code === 'CONFLICT' ? `${ok}/${conflict + 1}` : `${ok}/${conflict}`;
  }
  return out;
}

describeWith('QEMU and dockerd', why, `${CALLS} concurrent lifecycle calls from ${PROCESSES} processes`, () => {
  beforeAll(async () => {
    core = await Core.open({ env, role: 'test' });
    client = inprocClient(core.router, 'test');
    pools = await Promise.all(Array.from({ length: PROCESSES }, () => desktopCore(env)));
  }, 60_000);
  afterAll(async () => {
    for (const f of figures) console.log(`concurrency figures: ${f}`);
    await Promise.all(pools.map((p) => p.close()));
    const { workloads } = await client.call('workloads.list', {});
    for (const w of workloads.filter((x) => x.name.startsWith(P))) await client.call('workloads.delete', { id: w.id, force: true }).catch(() => undefined);
    core.dispose();
    await cleanupPrefix(docker(), P);
    home.cleanup();
  }, 60_000);

  it('one VM: never two QEMUs, a true final state, only success or CONFLICT', async () => {
    const vm = await client.call('workloads.create', { driver: 'kvm', name: `${P}vm`, memoryMB: 32, disks: [{ base: bootSectorImage() }], accel: 'tcg' });
    let most = 0;
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) await client.call('workloads.start', { id: vm.id }).catch(() => undefined);
      const r = await storm(vm.id, () => {
        most = Math.max(most, qemusOf(home.home).get(vm.id.slice(4))?.length ?? 0);
      });
      const world = await observeWorld(client, home.home);
      expect(world.problems).toEqual([]);
      expect(r.other).toEqual([]);
      expect(most).toBeLessThanOrEqual(1);
      const final = world.workloads.find((w) => w.id === vm.id)!.state;
      figures.push(`VM round ${round + 1}: ${CALLS} calls from ${PROCESSES} processes → ${r.ok} ok, ${r.conflict} CONFLICT, ${r.other.length} other; most QEMUs at once: ${most}; final state ${final} (true) · ${JSON.stringify(r.byMethod)}`);
    }
  }, SOAK ? 600_000 : 120_000);

  it('one container: a true final state, only success or CONFLICT', async () => {
    const image = await busyboxImage(docker(), `${P}img/busybox:1`);
    const ct = await client.call('workloads.create', { driver: 'container', name: `${P}ct`, image, cmd: 'sh', args: ['-c', 'trap "exit 0" TERM; while :; do sleep 1; done'], network: 'none' });
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) await client.call('workloads.start', { id: ct.id }).catch(() => undefined);
      const r = await storm(ct.id);
      const w = (await client.call('workloads.list', { driver: 'container' })).workloads.find((x) => x.id === ct.id)!;
      const engine = (await docker().getContainer(`${P}ct`).inspect()).State;
      const truth = engine.Paused ? 'paused' : engine.Running ? 'running' : 'stopped';
      expect(r.other).toEqual([]);
      expect(w.state === 'exited' ? 'stopped' : w.state).toBe(truth);
      figures.push(`container round ${round + 1}: ${CALLS} calls from ${PROCESSES} processes → ${r.ok} ok, ${r.conflict} CONFLICT, ${r.other.length} other; final state ${w.state} (engine: ${engine.Status}) · ${JSON.stringify(r.byMethod)}`);
    }
  }, SOAK ? 600_000 : 120_000);
});
