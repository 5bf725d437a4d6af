/** Driver ids are the seed's VMType values, plus libvirt (issue #9). */
export const DRIVER_IDS = ['kvm', 'container', 'containerd', 'kata-containers', 'process', 'libvirt'] as const;
export type DriverId = (typeof DRIVER_IDS)[number];

export function isDriverId(value: string): value is DriverId {
  return (DRIVER_IDS as readonly string[]).includes(value);
}

/**
 * A workload id carries its driver ("process:3f9c0a…"), so any process can route it
 * without a lookup. The local part is the driver's own id and may contain ':'.
 */
export interface WorkloadRef {
  driver: DriverId;
  local: string;
}

export function workloadId(driver: DriverId, local: string): string {
  return `${driver}:${local}`;
}

export function parseWorkloadId(id: string): WorkloadRef | undefined {
  const at = id.indexOf(':');
  if (at <= 0) return undefined;
  const driver = id.slice(0, at);
  const local = id.slice(at + 1);
  if (!isDriverId(driver) || local.length === 0) return undefined;
  return { driver, local };
}
