import { join } from 'node:path';
import type { SandboxRuntime } from '../../../../shared/drivers/containerd.js';
import type { OwnOps } from '../common/own-ops.js';
import type { ContainerdClient } from './api/client.js';

/**
 * What the containerd family of drivers shares: containerd and kata-containers are the
 * same code with a different profile (which runtimes they offer, which label marks
 * their containers, where their files live).
 */
export interface Profile {
  id: 'containerd' | 'kata-containers';
  name: string;
  runtimes: readonly SandboxRuntime[];
  defaultRuntime: SandboxRuntime;
  /** Whether this driver also lists the containers of other namespaces, read-only. */
  listsOtherNamespaces: boolean;
}

export interface Family {
  profile: Profile;
  client: ContainerdClient;
  /** This driver's folder in the data dir: logs, FIFOs, the runsc wrapper, locks. */
  base: string;
  snapshotter: string;
  /** containerd's runtime name for Kata (config kata_containers.runtime). */
  kataRuntimeName: string;
  /** This process's operations under way, by local id: the event watcher reads theirs once they end. */
  ops: OwnOps;
}

/** The labels NovaCron sets on what it creates in containerd. */
export const LABEL = {
  driver: 'novacron.io/driver',
  runtime: 'novacron.io/runtime',
  createdBy: 'novacron.io/created-by',
  /** Set before we stop a task, so its exit reads "stopped", not "crashed". */
  stopRequested: 'novacron.io/stop-requested',
  /** The snapshot the rootfs was last reverted to. */
  snapshot: 'novacron.io/snapshot',
  /** On snapshot images: whose snapshot, and its name. */
  snapshotOf: 'novacron.io/snapshot-of',
  snapshotName: 'novacron.io/snapshot-name',
} as const;

/** containerd keeps this extension on our containers: the spec the admin asked for. */
export const DEFINITION_EXTENSION = 'novacron.io/definition';
export const DEFINITION_TYPE_URL = 'novacron.io/containerd-definition/v1';

/** The snapshotter every image is unpacked into and every rootfs prepared from. */
export const SNAPSHOTTER = 'overlayfs';

/** containerd's GC keeps content and snapshots alive through these labels. */
export const GC = {
  content: (name: string) => `containerd.io/gc.ref.content.${name}`,
  snapshot: (snapshotter: string) => `containerd.io/gc.ref.snapshot.${snapshotter}`,
  expire: 'containerd.io/gc.expire',
  uncompressed: 'containerd.io/uncompressed',
} as const;

/** A local id: "name" in our namespace, "namespace/name" in another (read-only). */
export interface Target {
  namespace: string;
  id: string;
  own: boolean;
}

export function parseLocal(f: Family, local: string): Target {
  const slash = local.indexOf('/');
  if (slash < 0) return { namespace: f.client.namespace, id: local, own: true };
  const namespace = local.slice(0, slash);
  return { namespace, id: local.slice(slash + 1), own: namespace === f.client.namespace };
}

export const localOf = (f: Family, namespace: string, id: string) => (namespace === f.client.namespace ? id : `${namespace}/${id}`);

/** Where a workload's stdio files and exec FIFOs live. */
export const workloadDir = (f: Family, namespace: string, id: string) => join(f.base, 'workloads', namespace, id);
export const stdioPath = (f: Family, namespace: string, id: string, stream: 'stdout' | 'stderr') => join(workloadDir(f, namespace, id), `${stream}.log`);
export const lockPath = (f: Family, key: string) => join(f.base, 'locks', key);

/** Seconds → containerd's Timestamp → ISO; Go's zero time means "never". */
export function isoOf(ts: { seconds: number; nanos: number } | null | undefined): string | undefined {
  if (!ts || ts.seconds <= 0) return undefined;
  return new Date(ts.seconds * 1000 + Math.floor(ts.nanos / 1e6)).toISOString();
}
