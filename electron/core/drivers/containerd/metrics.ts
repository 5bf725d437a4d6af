import { driverError } from '../../base/errors.js';
import type { RawSample } from '../driver.js';
import { decodeAny } from './api/codec.js';
import type { Family, Target } from './context.js';

/** cgroup v1 reports "no limit" as a huge page-aligned number; anything past this is no limit. */
const NO_LIMIT = 2 ** 60;

interface V1Metrics {
  cpu: { usage: { total: number } | null } | null;
  memory: { total_inactive_file: number; usage: { usage: number; limit: number } | null } | null;
  blkio: { io_service_bytes_recursive: { op: string; value: number }[] } | null;
  network: { rx_bytes: number; tx_bytes: number }[];
}

interface V2Metrics {
  cpu: { usage_usec: number } | null;
  memory: { inactive_file: number; usage: number; usage_limit: number } | null;
  io: { usage: { rbytes: number; wbytes: number }[] } | null;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** cgroup v1 shape: CPU in ns, memory usage less inactive file cache (as `docker stats` shows it). */
export function fromV1(m: V1Metrics, ts: number): RawSample {
  const usage = m.memory?.usage;
  const io = m.blkio?.io_service_bytes_recursive ?? [];
  const limit = usage?.limit ?? 0;
  return {
    ts,
    cpuNs: m.cpu?.usage?.total ?? 0,
    memoryBytes: Math.max(0, (usage?.usage ?? 0) - (m.memory?.total_inactive_file ?? 0)),
    ...(limit > 0 && limit < NO_LIMIT ? { memoryLimitBytes: limit } : {}),
    diskReadBytes: sum(io.filter((e) => e.op.toLowerCase() === 'read').map((e) => e.value)),
    diskWriteBytes: sum(io.filter((e) => e.op.toLowerCase() === 'write').map((e) => e.value)),
    ...(m.network.length ? { netRxBytes: sum(m.network.map((n) => n.rx_bytes)), netTxBytes: sum(m.network.map((n) => n.tx_bytes)) } : {}),
    source: 'containerd (cgroup v1)',
  };
}

/** cgroup v2 shape: CPU in µs. */
export function fromV2(m: V2Metrics, ts: number): RawSample {
  const limit = m.memory?.usage_limit ?? 0;
  const io = m.io?.usage ?? [];
  return {
    ts,
    cpuNs: (m.cpu?.usage_usec ?? 0) * 1000,
    memoryBytes: Math.max(0, (m.memory?.usage ?? 0) - (m.memory?.inactive_file ?? 0)),
    ...(limit > 0 && limit < NO_LIMIT ? { memoryLimitBytes: limit } : {}),
    diskReadBytes: sum(io.map((e) => e.rbytes)),
    diskWriteBytes: sum(io.map((e) => e.wbytes)),
    source: 'containerd (cgroup v2)',
  };
}

/** One sample from the Tasks metrics call; the Any's type says which cgroup version produced it. */
export async function taskMetrics(f: Family, t: Target, signal: AbortSignal): Promise<RawSample> {
  const { metrics } = await f.client.call('tasks.Metrics', { filters: [`id=="${t.id}"`] }, { namespace: t.namespace, signal });
  const m = metrics.find((x) => x.id === t.id);
  if (!m) throw driverError(f.profile.id, 'CONFLICT', `'${t.id}' has no running task to measure`);
  const decoded = decodeAny<V1Metrics | V2Metrics>(m.data);
  const ts = Date.now();
  if (decoded?.type === 'io.containerd.cgroups.v1.Metrics') return fromV1(decoded.value as V1Metrics, ts);
  if (decoded?.type === 'io.containerd.cgroups.v2.Metrics') return fromV2(decoded.value as V2Metrics, ts);
  throw driverError(f.profile.id, 'NOT_SUPPORTED', `'${t.id}': its runtime reports metrics as ${m.data?.type_url ?? 'nothing'}, which NovaCron does not read`);
}
