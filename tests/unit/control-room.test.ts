import { describe, expect, it } from 'vitest';
import type { MetricsSample, WorkloadInfo } from '../../shared/model.js';
import { buildItems, DEFAULT_QUERY, liveIds } from '../../renderer/src/inventory/model.js';
import { COMBOS, keyFor, typeText } from '../../renderer/src/console/keys.js';
import { mergeSamples, toSeries } from '../../renderer/src/metrics-math.js';

const wl = (id: string, name: string, state: WorkloadInfo['state'], extra: Partial<WorkloadInfo> = {}): WorkloadInfo => ({
  id,
  driver: id.split(':')[0] as WorkloadInfo['driver'],
  name,
  state,
  managed: true,
  summary: `${name} summary`,
  ...extra,
});

describe('the inventory’s rows', () => {
  const list = [
    wl('kvm:1', 'web', 'running', { startedAt: '2025-01-01T10:00:00Z' }),
    wl('process:2', 'backup', 'stopped'),
    wl('container:3', 'db', 'running', { startedAt: '2025-01-01T09:00:00Z' }),
    wl('process:4', 'Cron', 'paused', { startedAt: '2025-01-01T11:00:00Z' }),
  ];
  const byId = Object.fromEntries(list.map((w) => [w.id, w]));
  const ids = list.map((w) => w.id);
  const rows = (q: Partial<typeof DEFAULT_QUERY>, live?: (id: string) => { cpu: number; mem: number } | undefined) =>
    buildItems(ids, byId, { ...DEFAULT_QUERY, ...q }, live).map((i) => (i.kind === 'row' ? i.id : `[${i.label} ${i.count}]`));

  it('filters by text (name, summary, id), driver and state', () => {
    expect(rows({ text: 'WEB' })).toEqual(['kvm:1']);
    expect(rows({ text: 'container:3' })).toEqual(['container:3']);
    expect(rows({ driver: 'process' })).toEqual(['process:2', 'process:4']);
    expect(rows({ state: 'running' })).toEqual(['container:3', 'kvm:1']);
  });

  it('sorts by any column, names breaking ties; live numbers only where known', () => {
    expect(rows({})).toEqual(['process:2', 'process:4', 'container:3', 'kvm:1']);
    expect(rows({ sort: 'state' })).toEqual(['container:3', 'kvm:1', 'process:4', 'process:2']);
    expect(rows({ sort: 'uptime', desc: true })).toEqual(['container:3', 'kvm:1', 'process:4', 'process:2']);
    const live = (id: string) => ({ 'kvm:1': { cpu: 90, mem: 1 }, 'container:3': { cpu: 5, mem: 900 } })[id];
    expect(rows({ sort: 'cpu', desc: true }, live)).toEqual(['kvm:1', 'container:3', 'process:2', 'process:4']);
    expect(rows({ sort: 'memory', desc: true }, live)).toEqual(['container:3', 'kvm:1', 'process:2', 'process:4']);
  });

  it('groups under headers with counts', () => {
    expect(rows({ group: 'driver' })).toEqual(['[container 1]', 'container:3', '[kvm 1]', 'kvm:1', '[process 2]', 'process:2', 'process:4']);
    expect(rows({ group: 'state' })).toEqual(['[running 2]', 'container:3', 'kvm:1', '[paused 1]', 'process:4', '[stopped 1]', 'process:2']);
  });

  it('watches the numbers of on-screen rows that run, and no others', () => {
    const items = buildItems(ids, byId, { ...DEFAULT_QUERY, group: 'driver' });
    expect(liveIds(items, 0, items.length, byId)).toEqual(['container:3', 'kvm:1', 'process:4']);
    expect(liveIds(items, 0, 2, byId)).toEqual(['container:3']);
  });

  it('stays quick at 1,000 workloads', () => {
    const many = Array.from({ length: 1000 }, (_, i) => wl(`process:${i}`, `w${i}`, i % 3 ? 'running' : 'stopped'));
    const m = Object.fromEntries(many.map((w) => [w.id, w]));
    const started = performance.now();
    for (let i = 0; i < 20; i++) buildItems(many.map((w) => w.id), m, { ...DEFAULT_QUERY, text: 'w1', group: 'state', sort: 'cpu' }, () => ({ cpu: 1, mem: 1 }));
    expect((performance.now() - started) / 20).toBeLessThan(25);
  });
});

describe('typing into a VNC console', () => {
  it('maps characters to keys of a US layout, Shift where needed', () => {
    expect(keyFor('a')).toEqual({ key: { keysym: 0x61, code: 'KeyA' }, shift: false });
    expect(keyFor('A')).toEqual({ key: { keysym: 0x41, code: 'KeyA' }, shift: true });
    expect(keyFor('|')).toEqual({ key: { keysym: 0x7c, code: 'Backslash' }, shift: true });
    expect(keyFor('\n')?.key.code).toBe('Enter');
    expect(keyFor('é')).toEqual({ key: { keysym: 0xe9, code: '' }, shift: false });
    expect(keyFor('€')?.key.keysym).toBe(0x01000000 + 0x20ac);
  });
  it('presses and releases in order, one Enter for CRLF', () => {
    expect(typeText('Hi\r\n')).toEqual([
      [0xffe1, 'ShiftLeft', true],
      [0x48, 'KeyH', true],
      [0x48, 'KeyH', false],
      [0xffe1, 'ShiftLeft', false],
      [0x69, 'KeyI', true],
      [0x69, 'KeyI', false],
      [0xff0d, 'Enter', true],
      [0xff0d, 'Enter', false],
    ]);
  });
  it('offers Ctrl+Alt+Del first', () => {
    expect(COMBOS[0]!.keys.map((k) => k.code)).toEqual(['ControlLeft', 'AltLeft', 'Delete']);
  });
});

describe('chart series', () => {
  const s = (ts: number, extra: Partial<MetricsSample> = {}): MetricsSample => ({ ts, cpuPercent: ts / 1000, memoryBytes: 100, ...extra });
  it('turns cumulative counters into rates, with gaps across resets and holes', () => {
    const series = toSeries([s(1000, { diskReadBytes: 0, netRxBytes: 10 }), s(2000, { diskReadBytes: 500, netRxBytes: 30 }), s(3000, { diskReadBytes: 100 }), s(20000, { diskReadBytes: 200 })]);
    expect(series.t).toEqual([1, 2, 3, 20]);
    expect(series.diskRead).toEqual([null, 500, null, null]);
    expect(series.netRx).toEqual([null, 20, null, null]);
    expect(series.cpu).toEqual([1, 2, 3, 20]);
  });
  it('merges a resent history without duplicates, in order, capped', () => {
    const kept = [s(1000), s(2000), s(3000)];
    expect(mergeSamples(kept, [s(4000)]).map((x) => x.ts)).toEqual([1000, 2000, 3000, 4000]);
    expect(mergeSamples(kept, [s(2000), s(3000), s(4000)]).map((x) => x.ts)).toEqual([1000, 2000, 3000, 4000]);
    expect(mergeSamples(kept, [s(500), s(4000)], 3).map((x) => x.ts)).toEqual([2000, 3000, 4000]);
  });
});
