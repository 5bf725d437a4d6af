import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readStatSync } from '../../electron/core/base/procfs.js';
import { cli } from '../helpers/cli.js';
import { until } from '../helpers/core.js';
import { BUSYBOX, openContainerdCore } from '../helpers/containerd-core.js';
import { containerdWhy, ctr } from '../helpers/containerd.js';
import { describeWith } from '../helpers/engines.js';

const OWNER = 'novacron.io/owner';
/** The leases in a namespace, with their labels, as ctr shows them. */
const leases = (ns: string) =>
  ctr(ns, ['leases', 'ls'])
    .split('\n')
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => ({ id: l.trim().split(/\s+/)[0]!, line: l }));
const ours = (ns: string) => leases(ns).filter((l) => l.id.startsWith('novacron-'));
const pidNs = /\d+/.exec(readlinkSync('/proc/self/ns/pid'))![0];

/**
 * containerd leases keep what an operation writes from the garbage collector until
 * something refers to it; whatever holds one must let it go, or containerd keeps its
 * content and snapshots (for an hour, the lease's expiry). Against the real containerd.
 */
describeWith('containerd', containerdWhy(), 'containerd driver: no lease left behind', () => {
  let t: Awaited<ReturnType<typeof openContainerdCore>>;
  beforeAll(async () => void (t = await openContainerdCore('leases')));
  afterAll(() => t?.close());

  it('releases the lease of an import and a snapshot; a create takes none', async () => {
    // The import (in beforeAll) waits for its release.
    expect(ours(t.namespace)).toEqual([]);
    const w = await t.client.call('workloads.create', { driver: 'containerd', name: 'leased', image: BUSYBOX, cmd: 'sleep', args: ['100'] });
    // Its record, made first, keeps its snapshot from the garbage collector.
    expect(leases(t.namespace)).toEqual([]);
    await t.client.call('workloads.start', { id: w.id });
    await t.client.call('snapshots.create', { id: w.id, name: 's1' });
    // The snapshot's new layer is unpacked after it answers, holding the lease; a process about to exit waits for both.
    await t.core.settle();
    expect(ours(t.namespace)).toEqual([]);
    // By then the layer is unpacked, as ctr checks an image.
    expect(ctr(t.namespace, ['images', 'check'])).toMatch(/novacron-snapshot\/leased:s1 .* complete .* true/);
    await t.client.call('workloads.delete', { id: w.id, force: true });
  });

  it('leaves no lease after a CLI create, whose process exits as soon as it has answered', async () => {
    for (const name of ['cli-a', 'cli-b']) {
      const r = await cli(['create', '--driver', 'containerd', '--name', name, '--image', BUSYBOX, '--cmd', 'sleep', '--arg', '100'], t.env);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(ours(t.namespace)).toEqual([]);
  });

  it('removes the leftover lease of a NovaCron that has ended, and no other lease', async () => {
    // A process that has ended, as a lease's owner names it (pid namespace, pid, start ticks).
    const gone = spawnSync('sh', ['-c', 'cut -d" " -f22 /proc/$$/stat; echo $$'], { encoding: 'utf8' }).stdout.trim().split('\n');
    const dead = `${pidNs}.${gone[1]}.${gone[0]}`;
    const live = `${pidNs}.${process.pid}.${readStatSync(process.pid)!.startTicks}`;
    const made = {
      'novacron-0000000000000dead': dead,
      'novacron-00000000000000a1e': live, // an operation in progress in a live NovaCron
      'novacron-0000000000000f0e1': `1${pidNs}.${gone[1]}.${gone[0]}`, // another pid namespace: its processes are not ours to see
      'someone-elses-lease': dead, // not named as NovaCron names its leases
    };
    for (const [id, owner] of Object.entries(made)) ctr(t.namespace, ['leases', 'create', '--id', id, `${OWNER}=${owner}`]);
    ctr(t.namespace, ['leases', 'create', '--id', 'novacron-000000000000000b0', 'x=y']); // no owner: left to its expiry
    expect(ctr(t.namespace, ['leases', 'ls'])).toMatch(new RegExp(`novacron-0000000000000dead .*${OWNER}=${dead}`));
    // A new NovaCron process sweeps at its first create or lease (here: a create through the CLI).
    const r = await cli(['create', '--driver', 'containerd', '--name', 'cli-c', '--image', BUSYBOX, '--cmd', 'sleep', '--arg', '100'], t.env);
    expect(r.code, r.stderr).toBe(0);
    const left = await until('the dead owner\'s lease removed', () => leases(t.namespace).map((l) => l.id), (ids) => !ids.includes('novacron-0000000000000dead'));
    expect(left.sort()).toEqual(['novacron-000000000000000b0', 'novacron-00000000000000a1e', 'novacron-0000000000000f0e1', 'someone-elses-lease']);
  });
});
