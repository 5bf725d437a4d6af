import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessStore } from '../../electron/core/drivers/process/store.js';
import { VmStore } from '../../electron/core/drivers/kvm/store.js';

describe('workload store: its lock dir', () => {
  const made: string[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is made once per process, and again when it went away since', async () => {
    const base = mkdtempSync(join(tmpdir(), 'nc-store-'));
    made.push(base);
    const store = new ProcessStore(join(base, 'processes'));
    const def = await store.create({ name: 'w1', cmd: '/bin/true', args: [], env: {} }, 'test');
    await expect(store.withLock(def.id, 'start by test', 'w1', async () => 'first')).resolves.toBe('first');
    // Someone removed the whole lock dir between two operations: the next lock makes it again.
    rmSync(join(base, 'processes', '.locks'), { recursive: true });
    await expect(store.withLock(def.id, 'stop by test', 'w1', async () => 'second')).resolves.toBe('second');
    expect(existsSync(join(base, 'processes', '.locks'))).toBe(true);
    // And the lock is still one: a second taker while it is held gets CONFLICT.
    await store.withLock(def.id, 'stop by test', 'w1', async () => {
      await expect(store.withLock(def.id, 'start by test', 'w1', async () => 'never')).rejects.toMatchObject({ code: 'CONFLICT' });
    });
  });
});

describe("workload store: a create's deferred fsyncs", () => {
  const made: string[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const vmDef = (name: string) => ({ name, memoryMB: 64, cpus: 1, network: 'none' as const, portForwards: [], machine: 'pc', accel: 'tcg' as const });
  const disk = { node: 'd0', file: 'd0.qcow2', format: 'qcow2' as const, virtualSizeBytes: 1 };

  it('answers only once a fsync its build handed over has ended', async () => {
    const base = mkdtempSync(join(tmpdir(), 'nc-store-'));
    made.push(base);
    const store = new VmStore(join(base, 'vms'), join(base, 'run'));
    let finish!: () => void;
    let answered = false;
    const creating = store
      .create(vmDef('late'), 'test', async (dir, _id, defer) => {
        writeFileSync(join(dir, 'd0.qcow2'), 'disk');
        defer(new Promise<void>((r) => (finish = r)));
        return [disk];
      })
      .then((d) => {
        answered = true;
        return d;
      });
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    expect(readdirSync(join(base, 'vms')).filter((n) => !n.startsWith('.'))).toEqual([]);
    finish();
    const def = await creating;
    expect(await store.definition(def.id)).toMatchObject({ name: 'late', disks: [disk] });
  });

  it('fails with the fsync that failed, leaves nothing, and frees the name', async () => {
    const base = mkdtempSync(join(tmpdir(), 'nc-store-'));
    made.push(base);
    const store = new VmStore(join(base, 'vms'), join(base, 'run'));
    const failing = store.create(vmDef('w'), 'test', async (dir, _id, defer) => {
      writeFileSync(join(dir, 'd0.qcow2'), 'disk');
      defer(Promise.reject(new Error('disk 1: flushing the copy failed: EIO')));
      return [disk];
    });
    await expect(failing).rejects.toThrow('EIO');
    expect(readdirSync(join(base, 'vms')).filter((n) => n !== '.locks' && n !== '.names')).toEqual([]);
    expect(readdirSync(join(base, 'vms', '.names'))).toEqual([]);
    const def = await store.create(vmDef('w'), 'test', async (dir) => {
      writeFileSync(join(dir, 'd0.qcow2'), 'disk');
      return [disk];
    });
    expect(def.name).toBe('w');
  });
});
