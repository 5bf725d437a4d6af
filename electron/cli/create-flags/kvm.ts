import { NovaError } from '../../core/base/errors.js';
import { intFlag, numFlag } from '../args.js';
import type { CreateFlags } from './index.js';

/** HOSTPORT:GUESTPORT, optionally with /udp and a host address: [ADDR:]HOSTPORT:GUESTPORT[/udp]. */
export function parsePortForward(v: string): Record<string, unknown> {
  const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(v);
  if (!m) throw new NovaError('INVALID_ARGUMENT', `--port-forward: '${v}' must look like HOSTPORT:GUESTPORT (optionally ADDR:HOSTPORT:GUESTPORT/udp)`, { field: 'port-forward' });
  return { hostPort: Number(m[2]), guestPort: Number(m[3]), ...(m[4] ? { protocol: m[4] } : {}), ...(m[1] ? { hostAddress: m[1] } : {}) };
}

export const kvmFlags: CreateFlags = {
  options: {
    memory: { type: 'string' },
    cpus: { type: 'string' },
    'disk-size': { type: 'string', multiple: true },
    disk: { type: 'string', multiple: true },
    base: { type: 'string', multiple: true },
    iso: { type: 'string' },
    kernel: { type: 'string' },
    initrd: { type: 'string' },
    append: { type: 'string' },
    accel: { type: 'string' },
    machine: { type: 'string' },
    network: { type: 'string' },
    'port-forward': { type: 'string', multiple: true },
    incoming: { type: 'string' },
    start: { type: 'boolean' },
  },
  usage:
    '--memory MB [--cpus N] (--disk-size GB | --disk PATH | --base PATH)… [--iso PATH] [--kernel PATH [--initrd PATH] [--append STR]] [--accel auto|kvm|tcg] [--machine pc|q35] [--network user|none] [--port-forward [ADDR:]HOSTPORT:GUESTPORT[/udp]]… [--incoming tcp:HOST:PORT] [--start]',
  toSpec: (v) => {
    const memoryMB = intFlag(v.memory, 'memory');
    const cpus = intFlag(v.cpus, 'cpus');
    const disks = [
      ...((v['disk-size'] as string[] | undefined) ?? []).map((s) => ({ sizeGB: numFlag(s, 'disk-size') })),
      ...((v.disk as string[] | undefined) ?? []).map((path) => ({ path })),
      ...((v.base as string[] | undefined) ?? []).map((base) => ({ base })),
    ];
    const str = (k: string) => (v[k] !== undefined ? { [k]: v[k] } : {});
    return {
      ...(memoryMB !== undefined ? { memoryMB } : {}),
      ...(cpus !== undefined ? { cpus } : {}),
      disks,
      ...str('iso'),
      ...str('kernel'),
      ...str('initrd'),
      ...str('append'),
      ...str('accel'),
      ...str('machine'),
      ...str('network'),
      ...str('incoming'),
      ...(v.start ? { start: true } : {}),
      portForwards: ((v['port-forward'] as string[] | undefined) ?? []).map(parsePortForward),
    };
  },
};
