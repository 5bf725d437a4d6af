import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import { busyboxArchive } from '../helpers/oci-archive.js';
import { BUSYBOX, openContainerdCore } from '../helpers/containerd-core.js';
import { containerdWhy, ctr } from '../helpers/containerd.js';
import { describeWith } from '../helpers/engines.js';

/** ctr's snapshot table as key → kind. */
const snapshots = (ns: string) =>
  new Map(
    ctr(ns, ['snapshots', 'ls'])
      .split('\n')
      .slice(1)
      .filter((l) => l.trim())
      .map((l) => {
        const cols = l.trim().split(/\s+/);
        return [cols[0]!, cols.at(-1)!] as const;
      }),
  );
const containers = (ns: string) => ctr(ns, ['containers', 'ls', '-q']).split('\n').filter(Boolean);
/** The image's unpacked top layer: the one committed snapshot of a one-layer image. */
const chainId = (ns: string) => [...snapshots(ns)].find(([, kind]) => kind === 'Committed')![0];

/**
 * A create writes the container record first, then its snapshot (no lease around them):
 * what it does when either step meets something already there, or fails, against the
 * real containerd and checked with ctr.
 */
describeWith('containerd', containerdWhy(), 'containerd driver: create claims the name, then the snapshot', () => {
  let t: Awaited<ReturnType<typeof openContainerdCore>>;
  let client: NovaClient;
  beforeAll(async () => {
    t = await openContainerdCore('create');
    client = t.client;
  });
  afterAll(() => t?.close());
  const make = (name: string) => client.call('workloads.create', { driver: 'containerd', name, image: BUSYBOX, cmd: 'sleep', args: ['100'] });

  it("refuses a name another tool's container has, and leaves that container's snapshot alone", async () => {
    ctr(t.namespace, ['containers', 'create', BUSYBOX, 'taken', 'sleep', '1']);
    expect(snapshots(t.namespace).get('taken')).toBe('Active');
    await expect(make('taken')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining("a container named 'taken' already exists") });
    expect(snapshots(t.namespace).get('taken')).toBe('Active');
    ctr(t.namespace, ['containers', 'rm', 'taken']);
  });

  it('replaces a snapshot a create that died left under the name, and the workload runs', async () => {
    ctr(t.namespace, ['snapshots', 'prepare', 'orphan', chainId(t.namespace)]);
    const w = await make('orphan');
    await client.call('workloads.start', { id: w.id });
    expect((await client.call('workloads.inspect', { id: w.id })).info.state).toBe('running');
    await client.call('workloads.delete', { id: w.id, force: true });
    expect(snapshots(t.namespace).has('orphan')).toBe(false);
  });

  it('unpacks the image again when its snapshots were pruned', async () => {
    const top = chainId(t.namespace);
    ctr(t.namespace, ['snapshots', 'rm', top]);
    expect(snapshots(t.namespace).has(top)).toBe(false);
    const w = await make('unpacked');
    expect(snapshots(t.namespace).get(top)).toBe('Committed');
    await client.call('workloads.start', { id: w.id });
    expect((await client.call('workloads.inspect', { id: w.id })).info.state).toBe('running');
    await client.call('workloads.delete', { id: w.id, force: true });
  });

  it('leaves no record when the snapshot cannot be made, so the name is free for the next create', async () => {
    // The layer neither unpacked nor in the content store: nothing to make the snapshot from.
    const top = chainId(t.namespace);
    // The manifest names its layers in the labels that lead containerd's garbage collector to them.
    const layers = [...ctr(t.namespace, ['content', 'ls']).matchAll(/gc\.ref\.content\.l\.\d+=(sha256:[0-9a-f]{64})/g)].map((m) => m[1]!);
    expect(layers.length).toBeGreaterThan(0);
    ctr(t.namespace, ['snapshots', 'rm', top]);
    for (const l of layers) ctr(t.namespace, ['content', 'rm', l]);
    await expect(make('doomed')).rejects.toThrow(/content digest .* not found/);
    expect(containers(t.namespace)).not.toContain('doomed');
    expect(snapshots(t.namespace).has('doomed')).toBe(false);
    await client.call('images.import', { driver: 'containerd', file: busyboxArchive('docker'), name: BUSYBOX });
    const w = await make('doomed');
    await client.call('workloads.delete', { id: w.id });
  });

  it('lists a record whose snapshot is gone (a create killed between its two writes) as stopped, and deletes it', async () => {
    const w = await make('halfmade');
    ctr(t.namespace, ['snapshots', 'rm', 'halfmade']);
    expect((await client.call('workloads.list', { driver: 'containerd' })).workloads.find((x) => x.id === w.id)?.state).toBe('stopped');
    await expect(client.call('workloads.start', { id: w.id })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining("workload 'halfmade' has no root filesystem (its snapshot 'halfmade' is gone): delete it and create it again"),
    });
    await client.call('workloads.delete', { id: w.id });
    expect(containers(t.namespace)).not.toContain('halfmade');
  });
});
