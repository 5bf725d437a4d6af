import type { CreateFlags } from './index.js';
import { kvmFlags } from './kvm.js';

const { incoming: _incoming, ...options } = kvmFlags.options;

/** The kvm driver's VM flags, the same form: libvirt defines the domain from them. */
export const libvirtFlags: CreateFlags = {
  options,
  usage:
    '--memory MB [--cpus N] (--disk-size GB | --disk PATH | --base PATH)… [--iso PATH] [--kernel PATH [--initrd PATH] [--append STR]] [--accel auto|kvm|tcg] [--machine pc|q35] [--network user|none]',
  toSpec: (v) => {
    const { incoming: _i, ...spec } = kvmFlags.toSpec(v);
    // No forwards unless asked: the schema's default is the empty list, and the core explains why libvirt has none.
    if (Array.isArray(spec.portForwards) && spec.portForwards.length === 0) delete spec.portForwards;
    return spec;
  },
};
