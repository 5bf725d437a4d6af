import { describe, expect, it } from 'vitest';
import type { WorkloadInfo } from '../../shared/model.js';
import { resolvePaths } from '../../electron/core/base/paths.js';
import { defaults } from '../../electron/core/config/config.js';
import type { Driver, RawSample } from '../../electron/core/drivers/driver.js';
import { DriverManager } from '../../electron/core/drivers/manager.js';
import { collect, toFamilies } from '../../electron/core/observability/prometheus/collect.js';
import { render } from '../../electron/core/observability/prometheus/format.js';

// A counting fake: this test is about how many engine calls one scrape makes, which only
// the collector's own logic decides.
function fakeDriver(total: number, running: number) {
  const calls = { list: 0, metrics: 0, info: 0, inspect: 0 };
  const workloads: WorkloadInfo[] = Array.from({ length: total }, (_, i) => ({
    id: `process:w${i}`,
    driver: 'process',
    name: `w${i}`,
    state: i < running ? 'running' : 'stopped',
    managed: true,
    summary: '',
  }));
  const driver: Driver = {
    id: 'process',
    name: 'Fake',
    detect: async () => ({ available: true, version: '1.2.3' }),
    list: async () => {
      calls.list++;
      return workloads;
    },
    info: async () => {
      calls.info++;
      throw new Error('a scrape must not ask per workload');
    },
    inspect: async () => {
      calls.inspect++;
      throw new Error('a scrape must not inspect');
    },
    metrics: async (local): Promise<RawSample> => {
      calls.metrics++;
      if (local === 'w3') throw new Error('gone');
      return { ts: Date.now(), cpuNs: 2.5e9, memoryBytes: 1024, diskReadBytes: 10, diskWriteBytes: 20, netRxBytes: 30, netTxBytes: 40 };
    },
  };
  return { driver, calls };
}

describe('one scrape', () => {
  it('costs one list per driver and one sample per running workload, for 100 workloads', async () => {
    const { driver, calls } = fakeDriver(100, 60);
    const paths = resolvePaths({ NOVACRON_HOME: '/nonexistent-novacron-home' });
    const drivers = new DriverManager({ config: defaults(paths), paths }, [
      { id: 'process', name: 'Fake', load: async () => () => driver },
      { id: 'kvm', name: 'QEMU/KVM' },
    ]);
    const c = await collect(drivers, AbortSignal.timeout(10_000));
    expect(calls).toEqual({ list: 1, metrics: 60, info: 0, inspect: 0 });
    expect(c.sampleErrors).toBe(1);
    const text = render(toFamilies(c));
    expect(text.match(/^novacron_workload_state\{/gm)).toHaveLength(100);
    expect(text.match(/^novacron_workload_cpu_seconds_total\{/gm)).toHaveLength(59);
    expect(text).toContain('novacron_workload_cpu_seconds_total{driver="process",id="process:w0",name="w0"} 2.5');
    expect(text).toContain('novacron_workload_state{driver="process",id="process:w99",name="w99",state="stopped"} 1');
    expect(text).toContain('novacron_workload_network_transmit_bytes_total{driver="process",id="process:w1",name="w1"} 40');
    expect(text).toContain('novacron_driver_available{driver="kvm"} 0');
    expect(text).toContain('novacron_driver_info{driver="process",name="Fake",version="1.2.3"} 1');
    expect(text).toContain('novacron_workload_sample_errors 1');

    // Detection is cached: a second scrape lists and samples again, and nothing more.
    await collect(drivers, AbortSignal.timeout(10_000));
    expect(calls).toEqual({ list: 2, metrics: 120, info: 0, inspect: 0 });
    drivers.dispose();
  });
});
