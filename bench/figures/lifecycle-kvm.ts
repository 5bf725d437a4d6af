import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { qemuArgs, RUN_FILES } from '../../electron/core/drivers/kvm/args.js';
import { bareVmDefinition } from '../lib/bare-vm.js';
import { bootSectorImage, bootSectorWhy } from '../../tests/helpers/guests.js';
import { bareQmp, type BareQmp } from '../lib/bare-qmp.js';
import { openContract } from '../lib/contract.js';
import { contractPath, CYCLES, lifecycleEntries, type OPS, runCycles, SETTLE_MS, type Path } from '../lib/lifecycle.js';
import { median, runMs, sleep } from '../lib/measure.js';
import { entry, type Entry } from '../lib/report.js';
import type { BenchContext } from '../lib/context.js';

const MEMORY_MB = 64;
/**
 * Untimed, on every path, between start and pause: the guest's firmware runs under TCG for
 * its first ~150 ms, its port I/O contending with the monitor for QEMU's big lock, which
 * made a pause take 1 or 3 ms by chance. The ops after start are timed on the idle guest.
 */
const BOOT_MS = 300;
const booted = () => sleep(BOOT_MS);

/**
 * Figure 1, VMs, and figure 2's create+start: the lifecycle of a boot-sector VM (TCG, a
 * linked qcow2 clone of the boot image, no network) through the contract, against the
 * same QEMU command line hand-spawned and driven over a bare QMP socket kept open (the
 * least any tool can do), and against the command-line tools: `qemu-img create` and
 * `qemu-system-x86_64 -daemonize` (which returns once the VM is up). QEMU has no command
 * line for pause, resume, stop or a live snapshot, so those rows have no CLI baseline.
 */
export async function lifecycleKvm(ctx: BenchContext): Promise<Entry[]> {
  const why = bootSectorWhy();
  if (why) throw new Error(`kvm: ${why}`);
  const boot = bootSectorImage();
  const contract = await openContract(ctx);
  const scratch = join(contract.home, 'bench-vms');
  const tag = randomBytes(2).toString('hex');

  const defOf = (id: string) => bareVmDefinition(id, boot, MEMORY_MB);

  /** The shared part of the two hand-driven paths: everything after QEMU is up, over a bare QMP socket. */
  const afterStart = async (q: BareQmp, time: Parameters<Path['cycle']>[1], vmDir: string) => {
    await booted();
    await time('pause', () => q.cmd('stop'));
    await time('resume', () => q.cmd('cont'));
    await time('snapshot', async () => {
      const done = q.event((e) => e.event === 'JOB_STATUS_CHANGE' && e.data?.status === 'concluded');
      await q.cmd('snapshot-save', { 'job-id': 'snap', tag: 's1', vmstate: 'd0', devices: ['d0'] });
      await done;
      await q.cmd('job-dismiss', { id: 'snap' });
    });
    await time('stop', async () => {
      await q.cmd('quit').catch(() => undefined);
      await q.closed;
    });
    await time('delete', async () => rmSync(vmDir, { recursive: true, force: true }));
  };

  const create = async (id: string) => {
    const vmDir = join(scratch, id);
    mkdirSync(join(vmDir, 'run'), { recursive: true });
    await runMs('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', boot, '-F', 'raw', join(vmDir, 'd0.qcow2')]);
    return vmDir;
  };
  const args = (id: string, vmDir: string) => qemuArgs(defOf(id), { vmDir, accel: 'tcg' });
  /** QEMU spawned by hand, to its QMP greeting: the raw start, and figure 2's baseline. */
  const spawnToGreeting = (id: string, vmDir: string) => {
    spawn('qemu-system-x86_64', args(id, vmDir), { cwd: join(vmDir, 'run'), detached: true, stdio: 'ignore' }).unref();
    return bareQmp(join(vmDir, 'run', RUN_FILES.qmp));
  };

  const raw: Path = {
    name: 'qemu-img + spawned QEMU + bare QMP',
    kind: 'raw',
    async cycle(i, time) {
      const id = `r${tag}${i}`;
      const vmDir = await time('create', () => create(id));
      const q = await time('start', () => spawnToGreeting(id, vmDir));
      await afterStart(q, time, vmDir);
    },
  };

  const cli: Path = {
    name: 'qemu-img / qemu-system -daemonize',
    kind: 'cli',
    async cycle(i, time) {
      const id = `c${tag}${i}`;
      const vmDir = await time('create', () => create(id));
      await time('start', () => runMs('qemu-system-x86_64', [...args(id, vmDir), '-daemonize'], { ...process.env }, join(vmDir, 'run')));
      const q = await bareQmp(join(vmDir, 'run', RUN_FILES.qmp));
      await afterStart(q, (_op, fn) => fn(), vmDir);
    },
  };

  const spec = (p: string) => (i: number) => ({
    driver: 'kvm',
    name: `${p}${tag}${i}`,
    memoryMB: MEMORY_MB,
    cpus: 1,
    disks: [{ base: boot }],
    network: 'none',
    accel: 'tcg',
  });
  try {
    const results = await runCycles(
      [
        contractPath('NovaCron (in-process)', 'inproc', contract.inproc, spec('i'), { force: true, afterStart: booted }),
        contractPath('NovaCron (WebSocket)', 'ws', contract.ws, spec('w'), { force: true, afterStart: booted }),
        raw,
        cli,
      ],
      ctx.reps(CYCLES),
    );
    // What the contract does beyond the baseline, per op: pause and resume are the same one QMP command on a
    // connection kept open, plus the VM's cross-process lock (one symlink made and removed), a read of its
    // definition and state, and the router's validation and audit log; QEMU's own events tell the run status, so
    // no query-status and no durable write. Stop in both ends when QEMU closes its monitor after quit (its disks
    // and host ports are let go by then); the contract first marks the run stopping in its status hint (a write in
    // place), and renames and syncs the run state saying so while QEMU quits, waiting for that before it answers. The contract's delete then waits for that QEMU's exit (a few ms of teardown after the close), which
    // the baseline never does. Create also checks the spec against the host and makes the VM's files durable
    // (fsync'd, the directory renamed into place and synced); qemu-img info on the base runs once per process, and
    // the linked clone is a copy of the overlay qemu-img made for the base's first clone (the same bytes: an
    // overlay holds no id, time or path of its own), where the baseline runs qemu-img create each time.
    const out = lifecycleEntries('kvm', results, {
      create: "a linked qcow2 clone of the boot image; ours copies the overlay qemu-img made for the base's first clone, checks the spec and makes the VM durable",
      start: 'baseline: spawn to the QMP greeting',
      pause: 'one QMP command on a kept connection; ours also takes the VM lock (see the figure file)',
      resume: 'one QMP command on a kept connection; ours also takes the VM lock (see the figure file)',
      snapshot: 'live, with RAM (snapshot-save)',
      stop: 'quit (force), to the monitor closing; ours first hints the stop, and its run state is made durable meanwhile',
      delete: "the baseline removes the VM's folder; ours also takes the VM lock, checks that it is not running, renames the folder out of sight before removing it and frees its name and waits for the stopped QEMU's exit",
    });
    // Figure 2: create+start through the contract against a hand-spawned QEMU reaching its greeting. The
    // contract's is one call (create with start), as the UI's form sends it; the two calls apart are in the note.
    const sum = (kind: Path['kind'], ops: (typeof OPS)[number][]) => {
      const r = [...results].find(([p]) => p.kind === kind)?.[1];
      return ops.reduce((s, op) => s + median(r?.get(op) ?? [NaN]), 0);
    };
    const oneCall: number[] = [];
    const spawned: number[] = [];
    for (let i = 0; i < ctx.reps(CYCLES); i++) {
      // Taking turns, each first every other time; the pause as between the lifecycle cycles.
      for (const ours of i % 2 ? [false, true] : [true, false]) {
        await sleep(SETTLE_MS);
        if (ours) {
          const t0 = performance.now();
          const w = (await contract.ws.call('workloads.create', { ...spec('o')(i), start: true } as never)) as { id: string };
          oneCall.push(performance.now() - t0);
          await contract.ws.call('workloads.delete', { id: w.id, force: true });
        } else {
          const id = `s${tag}${i}`;
          const vmDir = await create(id);
          const t0 = performance.now();
          const q = await spawnToGreeting(id, vmDir);
          spawned.push(performance.now() - t0);
          await q.cmd('quit').catch(() => undefined);
          await q.closed;
          rmSync(vmDir, { recursive: true, force: true });
        }
      }
    }
    out.push(
      entry('kvm create+start (contract, WebSocket) vs QEMU spawned to its QMP greeting', 'ms', median(oneCall), median(spawned), 'spawned QEMU', { ratioMax: 1.1 },
        `one call, create with start, as the UI's form sends it (the two calls apart: ${sum('ws', ['create', 'start']).toFixed(1)} ms, the sum of the create and start rows' medians, against ${sum('raw', ['start']).toFixed(1)} ms)`),
    );
    return out;
  } finally {
    await contract.close();
  }
}
