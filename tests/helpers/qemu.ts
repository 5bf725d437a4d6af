import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Why the kvm driver's tests cannot run here, or undefined. */
export function qemuWhy(): string | undefined {
  for (const bin of ['qemu-system-x86_64', 'qemu-img']) {
    try {
      execFileSync(bin, ['--version'], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed (Debian: qemu-system-x86, qemu-utils)`;
    }
  }
  return undefined;
}

/** Live QEMU processes of a VM: QEMU is named nc-<local id> (its comm) by the driver. */
export function qemuPids(id: string): number[] {
  const comm = `nc-${id.replace(/^kvm:/, '')}`;
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (name === comm && state !== 'Z') out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
