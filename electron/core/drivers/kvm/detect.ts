import { constants } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { execa } from 'execa';
import type { Accel } from '../../../../shared/drivers/kvm.js';
import type { ToolFacts } from '../../base/tool-facts.js';

export interface KvmHost {
  qemu?: { path: string; version: string };
  qemuImg?: { path: string; version: string };
  /** Why QEMU cannot be used, when it cannot. */
  problem?: string;
  /** Undefined when /dev/kvm can be used; otherwise why not. */
  kvmProblem?: string;
  machines: Set<string>;
}

async function version(bin: string, facts?: ToolFacts): Promise<{ path: string; version: string } | string> {
  let failure = '';
  const run = async () => {
    const r = await execa(bin, ['--version'], { reject: false, timeout: 10_000 });
    if (r.exitCode === 0) return String(r.stdout);
    failure = r.failed && 'code' in r && r.code === 'ENOENT' ? `${bin} is not installed (not found on PATH)` : `${bin} --version failed: ${String(r.stderr || r.message).trim()}`;
    return undefined;
  };
  const out = facts ? await facts.output(bin, ['--version'], run) : await run();
  if (out === undefined) return failure;
  const v = /version (\S+)/.exec(out)?.[1] ?? 'unknown';
  return { path: bin, version: v };
}

/** /dev/kvm usable means: it exists and this process may open it read-write. */
export async function kvmProblem(): Promise<string | undefined> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
    const fh = await open('/dev/kvm', 'r+');
    await fh.close();
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return '/dev/kvm does not exist (no hardware virtualisation, or the kvm module is not loaded)';
    if (code === 'EACCES' || code === 'EPERM') return '/dev/kvm is not accessible to this user (add it to the kvm group)';
    return `/dev/kvm cannot be opened: ${(e as Error).message}`;
  }
}

/** facts: where the binaries' answers are remembered between processes (base/tool-facts.ts). */
export async function detectHost(qemuBin: string, qemuImgBin: string, facts?: ToolFacts): Promise<KvmHost> {
  const [q, qi, kvm] = await Promise.all([version(qemuBin, facts), version(qemuImgBin, facts), kvmProblem()]);
  const host: KvmHost = { machines: new Set(), ...(kvm ? { kvmProblem: kvm } : {}) };
  if (typeof q === 'string') host.problem = q;
  else host.qemu = q;
  if (typeof qi === 'string') host.problem ??= qi;
  else host.qemuImg = qi;
  if (host.qemu) {
    const run = async () => {
      const r = await execa(qemuBin, ['-machine', 'help'], { reject: false, timeout: 10_000 });
      return r.exitCode === 0 ? String(r.stdout) : undefined;
    };
    const out = (facts ? await facts.output(qemuBin, ['-machine', 'help'], run) : await run()) ?? '';
    for (const line of out.split('\n').slice(1)) {
      const m = /^(\S+)\s/.exec(line);
      if (m) host.machines.add(m[1]!);
    }
  }
  return host;
}

/** What `auto` means here, and why: kvm where /dev/kvm works and the config allows it, else tcg. */
export function resolveAccel(accel: Accel, host: KvmHost, enableKvm: boolean): { accel: 'kvm' | 'tcg'; why: string } {
  if (accel === 'tcg') return { accel: 'tcg', why: 'asked for tcg' };
  if (accel === 'kvm') return { accel: 'kvm', why: 'asked for kvm' };
  if (!enableKvm) return { accel: 'tcg', why: 'auto: kvm.enable_kvm is false' };
  if (host.kvmProblem) return { accel: 'tcg', why: `auto: ${host.kvmProblem}` };
  return { accel: 'kvm', why: 'auto: /dev/kvm is usable' };
}
