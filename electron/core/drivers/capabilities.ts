import type { Capability, CapabilityState } from '../../../shared/capabilities.js';
import { CAPABILITIES } from '../../../shared/capabilities.js';
import type { Detection, Driver } from './driver.js';

/** Which part of a driver provides each capability. */
const IMPLEMENTS: Record<Capability, (d: Driver) => boolean> = {
  create: (d) => !!d.create,
  start: (d) => !!d.start,
  stop: (d) => !!d.stop,
  restart: (d) => !!d.restart,
  pause: (d) => !!d.pause && !!d.resume,
  delete: (d) => !!d.delete,
  metrics: (d) => !!d.metrics,
  logs: (d) => !!d.logs,
  terminal: (d) => !!d.terminal,
  console: (d) => !!d.console,
  snapshot: (d) => !!d.snapshots,
  migrate: (d) => !!d.migrate,
  scale: (d) => !!d.scale,
  limits: (d) => !!d.limits && (d.limits.memory || d.limits.cpu),
  images: (d) => !!d.images,
};

/**
 * A capability is there when the driver implements it AND the host allows it. Every
 * "no" carries its reason, because an admin's next question is always "why not?".
 */
export function deriveCapabilities(
  driver: Driver | undefined,
  detection: Detection,
  unbuiltReason: string,
): Record<Capability, CapabilityState> {
  const out = {} as Record<Capability, CapabilityState>;
  for (const cap of CAPABILITIES) {
    if (!driver) out[cap] = { available: false, reason: unbuiltReason };
    else if (!IMPLEMENTS[cap](driver)) {
      out[cap] = { available: false, reason: driver.notImplemented?.[cap] ?? `the ${driver.name} driver does not implement it` };
    } else if (!detection.available) out[cap] = { available: false, reason: detection.reason ?? 'driver unavailable' };
    else if (detection.unsupported?.[cap]) out[cap] = { available: false, reason: detection.unsupported[cap] };
    else out[cap] = { available: true };
  }
  return out;
}
