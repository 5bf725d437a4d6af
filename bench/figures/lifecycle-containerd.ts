import { randomBytes } from 'node:crypto';
import { ContainerdClient } from '../../electron/core/drivers/containerd/api/client.js';
import { jsonAny, SPEC_TYPE_URL } from '../../electron/core/drivers/containerd/api/codec.js';
import type { UnaryRpcs } from '../../electron/core/drivers/containerd/api/messages.js';
import { SNAPSHOTTER, type Family } from '../../electron/core/drivers/containerd/context.js';
import { getImage, resolveImage } from '../../electron/core/drivers/containerd/images/images.js';
import { RUNC_SHIM } from '../../electron/core/drivers/containerd/runtimes.js';
import { generateSpec } from '../../electron/core/drivers/containerd/spec.js';
import { CONTAINERD_SOCKET, containerdWhy, removeNamespace, testNamespace } from '../../tests/helpers/containerd.js';
import { busyboxArchive } from '../../tests/helpers/oci-archive.js';
import { OwnOps } from '../../electron/core/drivers/common/own-ops.js';
import { openContract } from '../lib/contract.js';
import { contractPath, CYCLES, lifecycleEntries, runCycles, type Path } from '../lib/lifecycle.js';
import { runMs } from '../lib/measure.js';
import type { Entry } from '../lib/report.js';
import type { BenchContext } from '../lib/context.js';

const IMAGE = 'novacron-bench/busybox:latest';
const SIGKILL = 9;

/**
 * Figure 1, containerd: the lifecycle through the contract against containerd's gRPC API
 * called directly (the same protobuf client the driver uses, with none of its logic) and
 * against `ctr`. Tasks run runc with `sleep 3600`. The raw snapshot is only the engine's
 * part of one (freeze, diff the rootfs against its image, thaw); NovaCron's also stores
 * the diff as an image, so a revert or a `ctr run` can use it.
 */
export async function lifecycleContainerd(ctx: BenchContext): Promise<Entry[]> {
  const why = containerdWhy();
  if (why) throw new Error(`containerd: ${why}`);
  const namespace = testNamespace('bench');
  const contract = await openContract(ctx, { NOVACRON_CONTAINERD_NAMESPACE: namespace });
  const client = new ContainerdClient(CONTAINERD_SOCKET, namespace, 'containerd');
  const tag = randomBytes(2).toString('hex');
  try {
    await contract.inproc.call('images.import', { driver: 'containerd', file: busyboxArchive('docker'), name: IMAGE });
    const f: Family = {
      profile: { id: 'containerd', name: 'containerd', runtimes: ['runc'], defaultRuntime: 'runc', listsOtherNamespaces: false },
      client,
      base: contract.home,
      snapshotter: SNAPSHOTTER,
      kataRuntimeName: '',
      ops: new OwnOps(),
    };
    const resolved = await resolveImage(f, (await getImage(f, IMAGE))!);
    const parent = resolved.topChainId;
    const c = <K extends keyof UnaryRpcs>(key: K, req: UnaryRpcs[K][0], timeoutMs?: number, lease?: string) =>
      client.call(key, req, { ...(timeoutMs ? { timeoutMs } : {}), ...(lease ? { lease } : {}) });

    const raw: Path = {
      name: 'containerd gRPC',
      kind: 'raw',
      async cycle(i, time) {
        const id = `r${tag}-${i}`;
        const spec = jsonAny(SPEC_TYPE_URL, generateSpec({ namespace, id, image: resolved.config, cmd: 'sleep', args: ['3600'], env: {}, mounts: [] }));
        await time('create', async () => {
          // Under a lease, as ctr does: the garbage collector may otherwise take the fresh snapshot before the container refers to it.
          const lease = `l${tag}-${i}`;
          await c('leases.Create', { id: lease });
          await c('snapshots.Prepare', { snapshotter: SNAPSHOTTER, key: id, parent }, 0, lease);
          await c('containers.Create', { container: { id, image: IMAGE, runtime: { name: RUNC_SHIM }, spec, snapshotter: SNAPSHOTTER, snapshot_key: id } }, 0, lease);
          await c('leases.Delete', { id: lease });
        });
        await time('start', async () => {
          const { mounts } = await c('snapshots.Mounts', { snapshotter: SNAPSHOTTER, key: id });
          await c('tasks.Create', { container_id: id, rootfs: mounts }, 120_000);
          await c('tasks.Start', { container_id: id }, 120_000);
        });
        await time('pause', () => c('tasks.Pause', { container_id: id }));
        await time('resume', () => c('tasks.Resume', { container_id: id }));
        await time('snapshot', async () => {
          await c('tasks.Pause', { container_id: id });
          const view = `v${tag}-${i}`;
          const lease = `s${tag}-${i}`;
          await c('leases.Create', { id: lease });
          const { mounts: left } = await c('snapshots.View', { snapshotter: SNAPSHOTTER, key: view, parent }, 0, lease);
          const { mounts: right } = await c('snapshots.Mounts', { snapshotter: SNAPSHOTTER, key: id });
          await c('diff.Diff', { left, right, media_type: 'application/vnd.oci.image.layer.v1.tar+gzip', ref: `d${tag}-${i}` }, 600_000, lease);
          await c('snapshots.Remove', { snapshotter: SNAPSHOTTER, key: view });
          await c('leases.Delete', { id: lease });
          await c('tasks.Resume', { container_id: id });
        });
        await time('stop', async () => {
          await c('tasks.Kill', { container_id: id, signal: SIGKILL, all: true });
          await c('tasks.Wait', { container_id: id }, 30_000);
          await c('tasks.Delete', { container_id: id });
        });
        await time('delete', async () => {
          // As ctr does: the snapshot first, so the garbage collector never races us for it.
          await c('snapshots.Remove', { snapshotter: SNAPSHOTTER, key: id });
          await c('containers.Delete', { id });
        });
      },
    };

    const ctr = (...args: string[]) => runMs('ctr', ['--address', CONTAINERD_SOCKET, '-n', namespace, ...args]);
    const cliPath: Path = {
      name: 'ctr',
      kind: 'cli',
      async cycle(i, time) {
        const id = `c${tag}-${i}`;
        await time('create', () => ctr('containers', 'create', IMAGE, id, 'sleep', '3600'));
        await time('start', () => ctr('tasks', 'start', '-d', id));
        await time('pause', () => ctr('tasks', 'pause', id));
        await time('resume', () => ctr('tasks', 'resume', id));
        // ctr has no command that snapshots a container's root filesystem.
        await time('stop', () => ctr('tasks', 'rm', '-f', id));
        await time('delete', () => ctr('containers', 'rm', id));
      },
    };

    const spec = (p: string) => (i: number) => ({ driver: 'containerd', name: `${p}${tag}-${i}`, image: IMAGE, cmd: 'sleep', args: ['3600'] });
    const results = await runCycles(
      [
        contractPath('NovaCron (in-process)', 'inproc', contract.inproc, spec('i'), { force: true }),
        contractPath('NovaCron (WebSocket)', 'ws', contract.ws, spec('w'), { force: true }),
        raw,
        cliPath,
      ],
      ctx.reps(CYCLES),
    );
    return lifecycleEntries('containerd', results, {
      create: 'NovaCron also looks the image up by name (while it takes the per-workload lock); it writes the record, then its snapshot, with no lease (the record keeps the snapshot from the garbage collector); raw makes and releases a lease around them, as ctr does',
      start: "NovaCron's task writes stdout and stderr to files through a logger the shim starts (sh, then two cats after it says it is ready); the raw task has no stdio. Also the read under the lock (the start rule) and the answer's task read",
      pause: 'NovaCron takes the per-workload lock; whose the container is comes from its read under the lock in the last 2 s (else it is read first), the state check is the engine\'s',
      resume: 'as pause',
      snapshot: 'raw: freeze + diff + thaw only; NovaCron also stores the layer as an image (while the task thaws; the answer waits for the thaw), and unpacks it after the answer',
      stop: 'NovaCron also reads the container under the lock and marks it "stop requested" first (so the exit reads as stopped, not crashed); its wait goes out with the kill',
      delete: "raw removes the rootfs snapshot and the record only; NovaCron also reads it under the lock (the delete rule) while listing the workload's snapshot images, and removes those and its log folder once the record is gone",
    });
  } finally {
    client.dispose();
    await contract.close();
    removeNamespace(namespace);
  }
}
