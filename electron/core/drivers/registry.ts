import type { DriverId } from '../../../shared/ids.js';
import type { DriverFactory } from './driver.js';

/**
 * Every driver NovaCron knows, in matrix order. A driver is one folder exporting a
 * factory, imported lazily so its heavy dependencies load only when it is used. A
 * driver that is not built yet has no loader and says so; its lifecycle is not stubbed.
 */
export interface DriverEntry {
  id: DriverId;
  name: string;
  load?: () => Promise<DriverFactory>;
}

export const DRIVER_ENTRIES: readonly DriverEntry[] = [
  { id: 'kvm', name: 'QEMU/KVM', load: async () => (await import('./kvm/index.js')).createKvmDriver },
  { id: 'container', name: 'Docker', load: async () => (await import('./container/index.js')).createContainerDriver },
  { id: 'containerd', name: 'containerd', load: async () => (await import('./containerd/index.js')).createContainerdDriver },
  { id: 'kata-containers', name: 'Kata Containers', load: async () => (await import('./containerd/index.js')).createKataDriver },
  { id: 'process', name: 'Process', load: async () => (await import('./process/index.js')).createProcessDriver },
  { id: 'libvirt', name: 'libvirt', load: async () => (await import('./libvirt/index.js')).createLibvirtDriver },
];

export const NOT_BUILT = 'not built yet';
