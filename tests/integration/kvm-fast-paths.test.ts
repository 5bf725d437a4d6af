import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it, vi } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import { purge } from '../helpers/core.js';
import { tempHome } from '../helpers/home.js';
import { Core } from '../../electron/core/core.js';
import { inprocClient } from '../../electron/core/transport/inproc.js';
import { describeWith } from '../helpers/engines.js';
import { BOOT_BANNER, bootSectorWhy } from '../helpers/guests.js';
import { openTerminal } from '../helpers/terminal.js';
import { kvmSuiteCore, qemuPids, qemuWhy, sha256Of } from '../helpers/qemu.js';
import { VmStore } from '../../electron/core/drivers/kvm/store.js';
import { hintStopping } from '../../electron/core/drivers/kvm/status-hint.js';
import { QmpClient, withQmp } from '../../electron/core/drivers/kvm/qmp.js';
import { isSameProcess, readStat } from '../../electron/core/base/procfs.js';
import { freePort } from '../helpers/libvirt.js';

const why = qemuWhy() ?? bootSectorWhy();

/**
 * The kvm driver's quick paths, against real QEMU: a stop that answers once QEMU let go of
 * its disks and ports (before its exit), and linked clones copied from a template overlay.
 */
describeWith('QEMU', why, 'kvm driver: stop at release, clones from a template (boot-sector guest)', () => {
  const { s: suite, make, pidOf, vmDir } = kvmSuiteCore('nc-kvm-fast-');
  const sha = sha256Of;
  let client: NovaClient;
  let home: string;
  let image: string;
  let imageHash: string;
  beforeAll(() => void ({ client, home, image, imageHash } = suite));

  it('stops without waiting for the process to exit, yet a start or delete right after finds the disk, the port and the process free', async () => {
    const port = await freePort();
    const w = await make('bs-quick', { network: 'user', portForwards: [{ hostPort: port, guestPort: 22 }] });
    const disk = join(vmDir(w.id), 'd0.qcow2');
    const pids: number[] = [];
    for (let i = 0; i < 6; i++) {
      // QEMU refuses to start on a host port or a disk lock its predecessor still holds.
      expect((await client.call('workloads.start', { id: w.id })).state).toBe('running');
      pids.push(await pidOf(w.id));
      expect((await client.call('workloads.stop', { id: w.id, force: true })).state).toBe('stopped');
      // Looked at while QEMU may still be exiting: stopped, at once (no wait on monitors that will not answer).
      const t0 = Date.now();
      expect((await client.call('workloads.inspect', { id: w.id })).info.state).toBe('stopped');
      expect(Date.now() - t0).toBeLessThan(500);
      // Every other round, the next start comes at once; in the others, qemu-img takes the image lock first.
      if (i % 2 === 0) execFileSync('qemu-img', ['check', '-q', disk]);
    }
    expect(new Set(pids).size).toBe(pids.length);
    expect((await client.call('workloads.start', { id: w.id })).state).toBe('running');
    await client.call('workloads.stop', { id: w.id, force: true });
    // The delete ends only once that QEMU is gone, and takes everything with it.
    await client.call('workloads.delete', { id: w.id });
    expect(qemuPids(w.id)).toEqual([]);
    expect(existsSync(vmDir(w.id))).toBe(false);
    expect(existsSync(join(home, 'run', 'kvm', w.id.slice(4)))).toBe(false);
    // A forced delete of a running VM stops it and deletes at once, repeated: never refused as still holding its disks.
    for (let i = 0; i < 3; i++) {
      const v = await make(`bs-quick-${i}`);
      await client.call('workloads.start', { id: v.id });
      await client.call('workloads.delete', { id: v.id, force: true });
      expect(qemuPids(v.id)).toEqual([]);
      expect(existsSync(vmDir(v.id))).toBe(false);
    }
  });

  it('reads a QEMU that closed its monitors after a stop as stopped while it exits; a start or delete waits for the exit', async () => {
    // White-box: a QEMU past its cleanup, still exiting, is its run state (stop mark, pid) and a runtime dir whose
    // sockets are gone; a process that lives 600 ms more stands in for the QEMU.
    const exiting = async (name: string) => {
      const w = await make(name);
      const local = w.id.slice(4);
      const store = new VmStore(join(home, 'vms'), join(home, 'run', 'kvm'));
      const child = spawn('sleep', ['0.6'], { stdio: 'ignore' });
      const st = (await readStat(child.pid!))!;
      const runDir = store.runDir(local, 1);
      mkdirSync(runDir, { recursive: true });
      await store.writeRunState(local, { pid: child.pid!, startTicks: st.startTicks, instance: 1, runDir, accel: 'tcg', stopping: true, stoppedAt: new Date().toISOString() });
      return { w, gone: async () => !(await isSameProcess(child.pid!, st.startTicks)) };
    };

    const a = await exiting('bs-exit-del');
    const t0 = Date.now();
    expect((await client.call('workloads.inspect', { id: a.w.id })).info.state).toBe('stopped');
    expect(Date.now() - t0).toBeLessThan(500); // no wait on monitors that will never answer
    await client.call('workloads.delete', { id: a.w.id });
    expect(await a.gone()).toBe(true);
    expect(existsSync(vmDir(a.w.id))).toBe(false);

    const b = await exiting('bs-exit-start');
    expect(await b.gone()).toBe(false);
    expect((await client.call('workloads.start', { id: b.w.id })).state).toBe('running');
    expect(await b.gone()).toBe(true);
    await client.call('workloads.stop', { id: b.w.id, force: true });
  });

  it("reads a QEMU that ended after a stop's hint, before its run state said stopping, as stopped; without the hint, as crashed", async () => {
    // White-box: a stop writes 'stopping' in the status hint, asks QEMU to quit, and writes its run state meanwhile.
    // A QEMU that ended in between (SIGKILL stands in for the quit) must never read as a crash.
    const store = new VmStore(join(home, 'vms'), join(home, 'run', 'kvm'));
    const ended = async (name: string, hint: boolean) => {
      const w = await make(name);
      await client.call('workloads.start', { id: w.id });
      const run = await store.runState(w.id.slice(4));
      if (hint) expect(hintStopping(run.runDir!)).toBe(true);
      process.kill(run.pid!, 'SIGKILL');
      await vi.waitFor(async () => expect(await isSameProcess(run.pid!, run.startTicks!)).toBe(false), { timeout: 5_000 });
      return (await client.call('workloads.inspect', { id: w.id })).info;
    };
    expect((await ended('bs-hinted', true)).state).toBe('stopped');
    expect((await ended('bs-unhinted', false)).state).toBe('crashed');
  });

  it('pauses, resumes and stops on the held monitor without asking QEMU its status first; a pause made elsewhere is still seen', async () => {
    // A core nothing watches (as the CLI's, or a server's with no page open): no watcher asks the status for it.
    const t = tempHome('nc-kvm-known-');
    const core = await Core.open({ env: t.env });
    const c = inprocClient(core.router, 'test');
    const execute = vi.spyOn(QmpClient.prototype, 'execute');
    // This core's monitors only: the suite's own core shares the prototype, and its watcher may ask its VMs.
    const sent = () =>
      execute.mock.calls.flatMap(([cmd], i) => ((execute.mock.contexts[i] as QmpClient).path.startsWith(t.home) && ['query-status', 'stop', 'cont'].includes(cmd) ? [cmd] : []));
    try {
      const w = await c.call('workloads.create', { driver: 'kvm', name: 'bs-known', memoryMB: 32, disks: [{ base: image }], accel: 'tcg' } as never);
      await c.call('workloads.start', { id: w.id });
      execute.mockClear();
      // The first pause after a start is sent unasked (its STOP event says it was running); QEMU's events keep the status after it.
      expect((await c.call('workloads.pause', { id: w.id })).state).toBe('paused');
      expect((await c.call('workloads.resume', { id: w.id })).state).toBe('running');
      expect((await c.call('workloads.pause', { id: w.id })).state).toBe('paused');
      expect((await c.call('workloads.resume', { id: w.id })).state).toBe('running');
      expect((await c.call('workloads.stop', { id: w.id, force: true })).state).toBe('stopped');
      expect(sent()).toEqual(['stop', 'cont', 'stop', 'cont']);
      // Paused through another monitor: its STOP event reaches the held one, and nothing is taken as known.
      await c.call('workloads.start', { id: w.id });
      const qmp = String((await c.call('workloads.inspect', { id: w.id })).runtime.qmp_socket);
      await withQmp(qmp, (q) => q.execute('stop'));
      await expect(c.call('workloads.pause', { id: w.id })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('paused') });
      expect((await c.call('workloads.resume', { id: w.id })).state).toBe('running');
      await c.call('workloads.stop', { id: w.id, force: true });
    } finally {
      execute.mockRestore();
      await purge(c, t.home);
      core.dispose();
      t.cleanup();
    }
  });

  it('makes linked clones of one base with one qemu-img run: the others are copies, byte for byte what qemu-img makes, and they boot', async () => {
    // qemu-img through a wrapper that notes each subcommand it runs.
    const t = tempHome('nc-kvm-ov-');
    const log = join(t.home, 'qemu-img.log');
    const wrapper = join(t.home, 'qemu-img');
    writeFileSync(wrapper, `#!/bin/sh\necho "$1" >> '${log}'\nexec qemu-img "$@"\n`, { mode: 0o755 });
    const core = await Core.open({ env: { ...t.env, NOVACRON_KVM_QEMU_IMG_BINARY: wrapper } });
    const c = inprocClient(core.router, 'test');
    try {
      const ids: string[] = [];
      for (const name of ['ov-a', 'ov-b', 'ov-c']) {
        ids.push((await c.call('workloads.create', { driver: 'kvm', name, memoryMB: 32, disks: [{ base: image }], accel: 'tcg' } as never)).id);
      }
      expect(readFileSync(log, 'utf8').split('\n').filter((l) => l === 'create')).toHaveLength(1);
      const fresh = join(t.home, 'fresh.qcow2');
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image, '-F', 'raw', fresh]);
      for (const id of ids) {
        const disk = join(t.home, 'vms', id.slice(4), 'd0.qcow2');
        expect(sha(disk)).toBe(sha(fresh));
        execFileSync('qemu-img', ['check', '-q', disk]);
      }
      // A copy boots like the clone qemu-img made, and writes to its own overlay only.
      expect((await c.call('workloads.start', { id: ids[2]! })).state).toBe('running');
      const term = await openTerminal(c, ids[2]!);
      await term.expect(new RegExp(BOOT_BANNER));
      term.close();
      await c.call('workloads.stop', { id: ids[2]!, force: true });
      expect(sha(join(t.home, 'vms', ids[0]!.slice(4), 'd0.qcow2'))).toBe(sha(fresh));
      expect(sha(image)).toBe(imageHash);
    } finally {
      await purge(c, t.home);
      core.dispose();
      t.cleanup();
    }
  });
});
