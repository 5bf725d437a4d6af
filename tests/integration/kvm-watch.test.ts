import { readdirSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import type { CoreEvent } from '../../shared/model.js';
import { openTestCore, until } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';
import { bootSectorImage, bootSectorWhy } from '../helpers/guests.js';
import { qemuWhy } from '../helpers/qemu.js';

const why = qemuWhy() ?? bootSectorWhy();

/** This process's descriptors open on that QEMU's /proc stat, as fd numbers (the core runs in-process). */
const statFds = (pid: number): string[] =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === `/proc/${pid}/stat`;
    } catch {
      return false; // closed meanwhile (readdir's own descriptor)
    }
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The kvm watcher checks every running QEMU five times a second: through one /proc stat
 * descriptor per QEMU, kept open and re-read, closed once that QEMU stops or the watch ends.
 */
describeWith('QEMU', why, 'kvm watcher: one /proc stat descriptor per QEMU (boot-sector guest)', () => {
  let client: NovaClient;
  let close: () => Promise<void>;
  beforeAll(async () => void ({ client, close } = await openTestCore('nc-kvm-watch-')));
  afterAll(async () => close());

  it('holds one descriptor per QEMU while watching, re-read in place, and closes it when the VM stops or the watch ends', async () => {
    const w = await client.call('workloads.create', { driver: 'kvm', name: 'bs-watch', memoryMB: 32, disks: [{ base: bootSectorImage() }], accel: 'tcg' } as never);
    await client.call('workloads.start', { id: w.id });
    const pid = Number((await client.call('workloads.inspect', { id: w.id })).runtime.pid);
    const events: CoreEvent[] = [];
    const watch = () => client.subscribe('events', {}, { event: (e) => events.push(e) });

    let unwatch = watch();
    const fds = await until('the watcher opens its stat', () => statFds(pid), (f) => f.length > 0);
    expect(fds).toHaveLength(1);
    // Over a dozen checks later: still that one descriptor (a fresh open per check would be closed between them).
    for (let i = 0; i < 6; i++) {
      await sleep(250);
      expect(statFds(pid)).toEqual(fds);
    }
    // The watch ends: its descriptor goes with it.
    unwatch();
    expect(statFds(pid)).toEqual([]);

    // The VM stops while watched: its descriptor is closed, and the stop is reported.
    unwatch = watch();
    await until('the watcher opens its stat again', () => statFds(pid), (f) => f.length === 1);
    await client.call('workloads.stop', { id: w.id, force: true });
    await until('the stopped event', () => events.some((e) => e.type === 'workload' && e.info.id === w.id && e.info.state === 'stopped'), Boolean);
    await until('the descriptor closed', () => statFds(pid), (f) => f.length === 0, 3_000);
    unwatch();
  });
});
