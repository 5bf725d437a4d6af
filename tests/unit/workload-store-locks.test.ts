import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessStore } from '../../electron/core/drivers/process/store.js';

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
