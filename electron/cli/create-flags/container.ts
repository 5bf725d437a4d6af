import { parseMountFlag, parsePortFlag } from '../../../shared/drivers/container.js';
import { NovaError } from '../../core/base/errors.js';
import { intFlag, kvFlags, numFlag } from '../args.js';
import type { CreateFlags } from './index.js';

const many = (v: unknown) => (v as string[] | undefined) ?? [];

/** `--restart no|always|unless-stopped|on-failure[:N]` */
function restartFlag(v: unknown): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  const [policy, retries] = (typeof v === 'string' ? v : JSON.stringify(v)).split(':');
  return { policy, ...(retries !== undefined ? { maxRetries: intFlag(retries, 'restart') } : {}) };
}

/** Each flag maps to one field of the container create spec; the spec's schema checks the values. */
export const containerFlags: CreateFlags = {
  options: {
    image: { type: 'string' },
    cmd: { type: 'string' },
    arg: { type: 'string', multiple: true },
    entrypoint: { type: 'string' },
    env: { type: 'string', multiple: true },
    workdir: { type: 'string' },
    mount: { type: 'string', multiple: true },
    port: { type: 'string', multiple: true },
    network: { type: 'string' },
    restart: { type: 'string' },
    memory: { type: 'string' },
    cpus: { type: 'string' },
    'cpu-shares': { type: 'string' },
    label: { type: 'string', multiple: true },
    start: { type: 'boolean' },
  },
  usage:
    '--image REF [--cmd PROGRAM] [--arg A]… [--entrypoint PROGRAM] [--env K=V]… [--workdir DIR] [--mount SRC:DST[:ro]]… ' +
    '[--port [IP:]HOST:CONTAINER[/udp]]… [--network NET] [--restart no|always|unless-stopped|on-failure[:N]] ' +
    '[--memory MB] [--cpus N] [--cpu-shares N] [--label K=V]… [--start]',
  toSpec: (v) => {
    const mounts = many(v.mount).map((m) => {
      const r = parseMountFlag(m);
      if (!r.value) throw new NovaError('INVALID_ARGUMENT', `--mount: ${r.problem}`, { field: 'mount' });
      return r.value;
    });
    const ports = many(v.port).map((p) => {
      const r = parsePortFlag(p);
      if (!r.value) throw new NovaError('INVALID_ARGUMENT', `--port: ${r.problem}`, { field: 'port' });
      return r.value;
    });
    const memoryMB = intFlag(v.memory, 'memory');
    const cpus = numFlag(v.cpus, 'cpus');
    const cpuShares = intFlag(v['cpu-shares'], 'cpu-shares');
    const restart = restartFlag(v.restart);
    return {
      ...(v.image !== undefined ? { image: v.image } : {}),
      ...(v.cmd !== undefined ? { cmd: v.cmd } : {}),
      args: many(v.arg),
      ...(v.entrypoint !== undefined ? { entrypoint: v.entrypoint === '' ? [] : [v.entrypoint] } : {}),
      env: kvFlags(v.env, 'env'),
      ...(v.workdir !== undefined ? { workdir: v.workdir } : {}),
      mounts,
      ports,
      ...(v.network !== undefined ? { network: v.network } : {}),
      ...(restart ? { restart } : {}),
      ...(memoryMB !== undefined ? { memoryMB } : {}),
      ...(cpus !== undefined ? { cpus } : {}),
      ...(cpuShares !== undefined ? { cpuShares } : {}),
      labels: kvFlags(v.label, 'label'),
      ...(v.start ? { start: true } : {}),
    };
  },
};
