import type { VmDefinition } from '../../electron/core/drivers/kvm/store.js';

/**
 * The VM the hand-driven baselines run: a boot-sector guest on a linked qcow2 clone, TCG,
 * no network — the same definition the contract's VMs get, so both sides run one QEMU
 * command line (electron/core/drivers/kvm/args.ts).
 */
export function bareVmDefinition(id: string, boot: string, memoryMB: number): VmDefinition {
  return {
    version: 1,
    id,
    name: id,
    createdAt: new Date().toISOString(),
    memoryMB,
    cpus: 1,
    disks: [{ node: 'd0', file: 'd0.qcow2', format: 'qcow2', base: boot }],
    network: 'none',
    portForwards: [],
    machine: 'pc',
    accel: 'tcg',
  };
}
