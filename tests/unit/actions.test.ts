import { describe, expect, it } from 'vitest';
import { can, whyNot } from '../../shared/actions.js';
import { CAPABILITIES, type Capability, type CapabilityState } from '../../shared/capabilities.js';
import type { WorkloadState } from '../../shared/model.js';

const caps = (off: Partial<Record<Capability, string>> = {}) =>
  Object.fromEntries(CAPABILITIES.map((c) => [c, off[c] ? { available: false, reason: off[c] } : { available: true }])) as Record<Capability, CapabilityState>;

describe('lifecycle predicates: capability × state', () => {
  const w = (state: WorkloadState) => ({ state });
  it('start only from a stopped state', () => {
    expect(can('start', w('stopped'), caps())).toBe(true);
    expect(can('start', w('crashed'), caps())).toBe(true);
    expect(can('start', w('running'), caps())).toBe(false);
  });
  it('pause only when running, resume only when paused', () => {
    expect(can('pause', w('running'), caps())).toBe(true);
    expect(can('pause', w('paused'), caps())).toBe(false);
    expect(can('resume', w('paused'), caps())).toBe(true);
    expect(can('resume', w('running'), caps())).toBe(false);
  });
  it("a missing capability wins, with the driver's reason", () => {
    expect(whyNot('pause', w('running'), caps({ pause: 'no freezer here' }))).toBe('no freezer here');
  });
  it('explains a wrong state', () => {
    expect(whyNot('stop', w('stopped'), caps())).toBe('not possible while stopped');
  });
});
