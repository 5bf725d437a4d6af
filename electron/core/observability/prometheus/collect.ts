import type { DriverInfo } from '../../../../shared/capabilities.js';
import { parseWorkloadId } from '../../../../shared/ids.js';
import type { WorkloadInfo } from '../../../../shared/model.js';
import type { RawSample } from '../../drivers/driver.js';
import type { DriverManager } from '../../drivers/manager.js';
import type { Family, Labels, Sample } from './format.js';

/** How many metrics() calls run at once, and how long one may take. */
const CONCURRENCY = 8;
const SAMPLE_TIMEOUT_MS = 5_000;
const LIST_TIMEOUT_MS = 10_000;

export interface Collected {
  drivers: DriverInfo[];
  listed: { driver: string; workloads: WorkloadInfo[]; error?: string }[];
  samples: Map<string, RawSample>;
  sampleErrors: number;
}

const sampled = (w: WorkloadInfo) => w.state === 'running' || w.state === 'paused';

/** Run fn over items, at most `n` at a time. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

/**
 * One pass over the cheap sources the UI's metrics use: the (cached) driver detection,
 * ONE list() per available driver, and ONE metrics() per running workload, a few at a
 * time. Nothing is asked per series; a stopped workload costs nothing beyond its row.
 */
export async function collect(drivers: DriverManager, signal: AbortSignal): Promise<Collected> {
  const infos = await drivers.infoAll();
  const samples = new Map<string, RawSample>();
  let sampleErrors = 0;
  const listed = await Promise.all(
    infos
      .filter((i) => i.available)
      .map(async (info) => {
        try {
          const d = await drivers.get(info.id);
          const workloads = await d.list(AbortSignal.any([signal, AbortSignal.timeout(LIST_TIMEOUT_MS)]));
          if (info.capabilities.metrics.available && d.metrics) {
            const read = d.metrics.bind(d);
            await pool(workloads.filter(sampled), CONCURRENCY, async (w) => {
              const ref = parseWorkloadId(w.id);
              if (!ref) return;
              try {
                samples.set(w.id, await read(ref.local, AbortSignal.any([signal, AbortSignal.timeout(SAMPLE_TIMEOUT_MS)])));
              } catch {
                // Gone between list and sample, or its engine hiccupped: counted, not fatal.
                sampleErrors++;
              }
            });
          }
          return { driver: info.id, workloads };
        } catch (e) {
          return { driver: info.id, workloads: [], error: (e as Error).message };
        }
      }),
  );
  return { drivers: infos, listed, samples, sampleErrors };
}

const family = (name: string, type: Family['type'], help: string): Family => ({ name, type, help, samples: [] });

/** The workload and driver families of one collection. */
export function toFamilies(c: Collected): Family[] {
  const available = family('novacron_driver_available', 'gauge', 'Whether the driver can be used on this host (1) or not (0)');
  const info = family('novacron_driver_info', 'gauge', 'The engine version each driver detected');
  const listError = family('novacron_driver_list_error', 'gauge', 'Whether listing the driver\'s workloads failed in this scrape');
  for (const d of c.drivers) {
    available.samples.push({ labels: { driver: d.id }, value: d.available ? 1 : 0 });
    info.samples.push({ labels: { driver: d.id, name: d.name, version: d.version ?? '' }, value: 1 });
  }
  for (const l of c.listed) listError.samples.push({ labels: { driver: l.driver }, value: l.error ? 1 : 0 });

  const state = family('novacron_workload_state', 'gauge', 'The workload\'s state, as the label; always 1');
  const cpu = family('novacron_workload_cpu_seconds_total', 'counter', 'CPU time the workload used, in seconds');
  const mem = family('novacron_workload_memory_bytes', 'gauge', 'Memory the workload uses, in bytes');
  const memLimit = family('novacron_workload_memory_limit_bytes', 'gauge', 'The workload\'s memory limit, in bytes');
  const diskR = family('novacron_workload_disk_read_bytes_total', 'counter', 'Bytes the workload read from disk');
  const diskW = family('novacron_workload_disk_written_bytes_total', 'counter', 'Bytes the workload wrote to disk');
  const netRx = family('novacron_workload_network_receive_bytes_total', 'counter', 'Bytes the workload received over the network');
  const netTx = family('novacron_workload_network_transmit_bytes_total', 'counter', 'Bytes the workload sent over the network');
  const put = (f: Family, labels: Labels, v: number | undefined) => {
    if (v !== undefined && Number.isFinite(v)) f.samples.push({ labels, value: v } satisfies Sample);
  };
  for (const l of c.listed) {
    for (const w of l.workloads) {
      const labels: Labels = { driver: w.driver, id: w.id, name: w.name };
      state.samples.push({ labels: { ...labels, state: w.state }, value: 1 });
      const s = c.samples.get(w.id);
      if (!s) continue;
      put(cpu, labels, s.cpuNs !== undefined ? s.cpuNs / 1e9 : undefined);
      put(mem, labels, s.memoryBytes);
      put(memLimit, labels, s.memoryLimitBytes);
      put(diskR, labels, s.diskReadBytes);
      put(diskW, labels, s.diskWriteBytes);
      put(netRx, labels, s.netRxBytes);
      put(netTx, labels, s.netTxBytes);
    }
  }
  const errors = family('novacron_workload_sample_errors', 'gauge', 'Running workloads whose sample failed in this scrape');
  errors.samples.push({ labels: {}, value: c.sampleErrors });
  return [available, info, listError, state, cpu, mem, memLimit, diskR, diskW, netRx, netTx, errors];
}
