import { intFlag, kvFlags } from '../args.js';
import type { CreateFlags } from './index.js';

export const processFlags: CreateFlags = {
  options: {
    cmd: { type: 'string' },
    arg: { type: 'string', multiple: true },
    env: { type: 'string', multiple: true },
    cwd: { type: 'string' },
    memory: { type: 'string' },
    'cpu-percent': { type: 'string' },
  },
  usage: '--cmd PROGRAM [--arg A]… [--env K=V]… [--cwd DIR] [--memory MB] [--cpu-percent N]',
  toSpec: (v) => {
    const memoryMB = intFlag(v.memory, 'memory');
    const cpuPercent = intFlag(v['cpu-percent'], 'cpu-percent');
    return {
      ...(v.cmd !== undefined ? { cmd: v.cmd } : {}),
      args: (v.arg) ?? [],
      env: kvFlags(v.env, 'env'),
      ...(v.cwd !== undefined ? { cwd: v.cwd } : {}),
      ...(memoryMB !== undefined ? { memoryMB } : {}),
      ...(cpuPercent !== undefined ? { cpuPercent } : {}),
    };
  },
};
