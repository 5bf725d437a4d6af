import { describe, expect, it } from 'vitest';
import { METHOD_NAMES, STREAM_NAMES, methods } from '../../shared/contract/index.js';
import { ipcChannelOf, IPC_STREAM } from '../../shared/contract/wire.js';
import { nameProblem } from '../../shared/schemas.js';
import { validate } from '../../shared/validate.js';
import { createSpecSchema } from '../../shared/drivers/index.js';

describe('the contract', () => {
  it('derives one distinct IPC channel per method, none shared with the stream channels', () => {
    const channels = METHOD_NAMES.map(ipcChannelOf);
    expect(new Set(channels).size).toBe(METHOD_NAMES.length);
    for (const c of Object.values(IPC_STREAM)) expect(channels).not.toContain(c);
    expect(STREAM_NAMES).toEqual(['events', 'metrics', 'logs', 'terminal', 'metricsBatch', 'eventLog']);
  });

  it('rejects unknown fields and names the field', () => {
    const r = validate(methods['workloads.start'].input, { id: 'process:abc', bogus: 1 });
    expect(r).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', field: 'bogus' } });
  });

  it('says a missing field is required', () => {
    const r = validate(methods['workloads.start'].input, {});
    expect(r).toEqual({ ok: false, error: { code: 'INVALID_ARGUMENT', message: 'id: is required', field: 'id' } });
  });

  it('refuses a negative stop timeout', () => {
    const r = validate(methods['workloads.stop'].input, { id: 'process:abc', timeoutSec: -1 });
    expect(r).toMatchObject({ ok: false, error: { field: 'timeoutSec', message: 'timeoutSec: must not be negative' } });
  });

  it('refuses ids without a known driver', () => {
    for (const id of ['abc', 'nope:abc', 'process:', ':x']) {
      expect(validate(methods['workloads.start'].input, { id }).ok).toBe(false);
    }
  });
});

describe('workload names', () => {
  it.each([
    ['', 'must not be empty'],
    ['a/b', "must not contain '/'"],
    ['..', "must not contain '..'"],
    ['x..y', "must not contain '..'"],
    ['bad\u0001name', 'must not contain control characters'],
    ['-lead', 'must start with a letter or digit and hold only letters, digits, _ . -'],
    ['$(touch /tmp/x)', "must not contain '/'"],
    ['a'.repeat(64), 'must be at most 63 characters'],
  ])('%j → %s', (name, problem) => {
    expect(nameProblem(name)).toBe(problem);
  });

  it('accepts ordinary names', () => {
    for (const n of ['web', 'db-1', 'vm_2.prod', '0x']) expect(nameProblem(n)).toBeUndefined();
  });
});

describe('create specs', () => {
  it('requires a command for a process', () => {
    const r = validate(createSpecSchema, { driver: 'process', name: 'x' });
    expect(r).toMatchObject({ ok: false, error: { field: 'cmd', message: 'cmd: is required' } });
  });
  it('refuses an unknown driver', () => {
    const r = validate(createSpecSchema, { driver: 'vmware', name: 'x' });
    expect(r).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', field: 'driver' } });
  });
  it('refuses env names that are not names and values with NUL', () => {
    expect(validate(createSpecSchema, { driver: 'process', name: 'x', cmd: 'sleep', env: { '1A': 'b' } }).ok).toBe(false);
    expect(validate(createSpecSchema, { driver: 'process', name: 'x', cmd: 'sleep', env: { A: 'b\u0000' } }).ok).toBe(false);
  });
});
