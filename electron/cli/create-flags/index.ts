import type { DriverId } from '../../../shared/ids.js';
import type { Options } from '../args.js';
import { containerFlags } from './container.js';
import { containerdFlags } from './containerd.js';
import { kvmFlags } from './kvm.js';
import { libvirtFlags } from './libvirt.js';
import { processFlags } from './process.js';

/** How `novacron create --driver D` reads its driver's flags into a create spec. */
export interface CreateFlags {
  options: Options;
  usage: string;
  toSpec(values: Record<string, unknown>): Record<string, unknown>;
}

/** One entry per driver that can create; a driver that lands adds its own file and line. */
export const CREATE_FLAGS: Partial<Record<DriverId, CreateFlags>> = {
  kvm: kvmFlags,
  process: processFlags,
  container: containerFlags,
  containerd: containerdFlags,
  'kata-containers': containerdFlags,
  libvirt: libvirtFlags,
};
