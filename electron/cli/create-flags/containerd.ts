import { NovaError } from '../../core/base/errors.js';
import { intFlag, kvFlags, numFlag } from '../args.js';
import type { CreateFlags } from './index.js';

/** `--mount SRC:DST[:ro]` → a bind mount; paths are checked by the schema and the core. */
function mountFlags(values: unknown): { source: string; target: string; readOnly?: boolean }[] {
  return ((values as string[] | undefined) ?? []).map((m) => {
    const parts = m.split(':');
    const ro = parts.length === 3 && (parts[2] === 'ro' || parts[2] === 'rw') ? parts.pop() === 'ro' : false;
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new NovaError('INVALID_ARGUMENT', `--mount: '${m}' must look like SRC:DST or SRC:DST:ro`, { field: 'mount' });
    }
    return { source: parts[0], target: parts[1], ...(ro ? { readOnly: true } : {}) };
  });
}

/** containerd and kata-containers take the same flags; only the default runtime differs. */
export const containerdFlags: CreateFlags = {
  options: {
    image: { type: 'string' },
    cmd: { type: 'string' },
    arg: { type: 'string', multiple: true },
    env: { type: 'string', multiple: true },
    mount: { type: 'string', multiple: true },
    memory: { type: 'string' },
    cpus: { type: 'string' },
    label: { type: 'string', multiple: true },
    runtime: { type: 'string' },
  },
  usage: '--image REF [--cmd PROGRAM] [--arg A]… [--env K=V]… [--mount SRC:DST[:ro]]… [--memory MB] [--cpus N] [--label K=V]… [--runtime runc|runsc|kata]',
  toSpec: (v) => {
    const memoryMB = intFlag(v.memory, 'memory');
    const cpus = numFlag(v.cpus, 'cpus');
    return {
      ...(v.image !== undefined ? { image: v.image } : {}),
      ...(v.cmd !== undefined ? { cmd: v.cmd } : {}),
      args: v.arg ?? [],
      env: kvFlags(v.env, 'env'),
      mounts: mountFlags(v.mount),
      labels: kvFlags(v.label, 'label'),
      ...(memoryMB !== undefined ? { memoryMB } : {}),
      ...(cpus !== undefined ? { cpus } : {}),
      ...(v.runtime !== undefined ? { runtime: v.runtime } : {}),
    };
  },
};
