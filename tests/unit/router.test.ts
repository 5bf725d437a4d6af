import { describe, expect, it } from 'vitest';
import { Router, type MethodImpl, type StreamImpl } from '../../electron/core/api/router.js';
import { NovaError } from '../../electron/core/base/errors.js';
import { toDisposable } from '../../electron/core/base/lifecycle.js';
import { inprocClient } from '../../electron/core/transport/inproc.js';
import { deriveCapabilities } from '../../electron/core/drivers/capabilities.js';
import type { Driver } from '../../electron/core/drivers/driver.js';

// Fake handlers: these tests are about the router's own rules (validation, errors as data, cancel).
const calls: unknown[] = [];
const impl = new Proxy({}, {
  get: (_t, name: string) => async (input: unknown, ctx: { signal: AbortSignal }) => {
    calls.push([name, input]);
    if (name === 'workloads.start') throw new NovaError('CONFLICT', 'process: already running', { driver: 'process' });
    if (name === 'workloads.inspect') throw new Error('disk on fire');
    if (name === 'workloads.stop') {
      await new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
    }
    return { echoed: input };
  },
}) as MethodImpl;
const streams = { events: () => toDisposable(() => undefined) } as unknown as StreamImpl;

describe('the router', () => {
  const router = new Router(impl, streams, () => undefined);

  it('hands a stream it refuses at once to the client sink only after subscribe has returned, so the sink can stop it', async () => {
    const client = inprocClient(router, 'cli');
    const seen: string[] = [];
    const failed = new Promise<string>((resolve) => {
      // As the CLI's logs command does: its error handler stops the stream it was given.
      const stop = client.subscribe('logs', { id: 'process:\u0007' }, {
        event: () => undefined,
        error: (e) => {
          stop();
          resolve(e.code);
        },
      });
      seen.push('returned');
    });
    expect(await failed).toBe('INVALID_ARGUMENT');
    expect(seen).toEqual(['returned']);
  });

  it('refuses a method the contract does not have', async () => {
    expect(await router.call('fs.readFile', { path: '/etc/shadow' }, { origin: 'test' })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', field: 'method' } });
  });

  it('validates before any handler runs', async () => {
    calls.length = 0;
    const r = await router.call('workloads.create', { driver: 'process', name: '../../etc', cmd: 'x' }, { origin: 'test' });
    expect(r).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', field: 'name', message: "name: must not contain '/'" } });
    expect(calls).toHaveLength(0);
  });

  it('returns errors as data, keeping the code, the driver and the real message', async () => {
    expect(await router.call('workloads.start', { id: 'process:abc' }, { origin: 'test' })).toEqual({ ok: false, error: { code: 'CONFLICT', message: 'process: already running', driver: 'process' } });
    expect(await router.call('workloads.inspect', { id: 'process:abc' }, { origin: 'test' })).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'disk on fire' } });
  });

  it('cancels a long operation by its op id', async () => {
    const p = router.call('workloads.stop', { id: 'process:abc' }, { origin: 'test', op: 'op-1' });
    await new Promise((r) => setTimeout(r, 10));
    expect(router.cancel('op-1')).toBe(true);
    expect(await p).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
    expect(router.cancel('op-1')).toBe(false);
  });

  it('refuses an unknown stream through the sink', () => {
    let err: unknown;
    router.subscribe('shell', {}, { event: () => undefined, error: (e) => (err = e) }, { origin: 'test' });
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'stream' });
  });
});

describe('capabilities are derived, with reasons', () => {
  const d = { id: 'process', name: 'Process', pause: async () => ({}), resume: async () => ({}), notImplemented: { console: 'no display' } } as unknown as Driver;
  it('from what the driver implements and what the host allows', () => {
    const caps = deriveCapabilities(d, { available: true, unsupported: { pause: 'no freezer' } }, 'x');
    expect(caps.pause).toEqual({ available: false, reason: 'no freezer' });
    expect(caps.console).toEqual({ available: false, reason: 'no display' });
    expect(caps.snapshot).toEqual({ available: false, reason: 'the Process driver does not implement it' });
  });
  it('all off, with the reason, when the driver is unavailable or not built', () => {
    expect(deriveCapabilities(d, { available: false, reason: 'engine down' }, 'x').pause).toEqual({ available: false, reason: 'engine down' });
    expect(deriveCapabilities(undefined, { available: false }, 'not built yet').start).toEqual({ available: false, reason: 'not built yet' });
  });
});
