import { join } from 'node:path';
import type { VmDefinition, VmDisk } from './store.js';

/** Socket and file names inside a runtime dir; QEMU runs with that dir as its cwd, so they stay short. */
export const RUN_FILES = {
  qmp: 'qmp.sock',
  /** A second monitor for status and metrics, so a long operation holding the first never blocks them. */
  qmpQuery: 'qmp-q.sock',
  /** A third monitor that one NovaCron process keeps open while the VM runs (see held.ts), so its operations skip the connect. */
  qmpHeld: 'qmp-h.sock',
  /** The claim (a lock dir) of the process holding qmpHeld. */
  qmpHeldClaim: 'qmp-h.claim',
  vnc: 'vnc.sock',
  serial: 'serial.sock',
  pidfile: 'qemu.pid',
  migration: 'migrate.sock',
  /** The guest agent's channel (virtio-serial), for what only the guest knows: network byte counters. */
  agent: 'qga.sock',
  /** The run status a pause or resume last saw: the fallback while every monitor is busy (see runtime.ts). */
  statusHint: 'status',
} as const;

export interface LaunchOptions {
  vmDir: string;
  accel: 'kvm' | 'tcg';
  /** Wait for a migration stream instead of booting: unix:PATH or tcp:HOST:PORT. */
  incoming?: string;
  /** Leave out the host port forwards: the source of a local migration still holds those ports. */
  skipForwards?: boolean;
}

/** QEMU's option syntax doubles a comma to mean a literal one. */
export const escapeOpt = (v: string) => v.replaceAll(',', ',,');

/** The forward rule as QEMU's hostfwd_add takes it. */
export const hostfwd = (p: VmDefinition['portForwards'][number]) => `${p.protocol}:${p.hostAddress}:${p.hostPort}-:${p.guestPort}`;

export const diskPath = (vmDir: string, d: VmDisk) => (d.file ? join(vmDir, d.file) : d.path!);

/**
 * The QEMU command line of a VM: a pure function of its definition, so the destination
 * of a migration gets exactly the source's devices. Block devices and devices are given
 * as JSON, so a path with a comma cannot inject an option.
 */
export function qemuArgs(def: VmDefinition, opts: LaunchOptions): string[] {
  const a: string[] = [];
  const push = (...xs: string[]) => a.push(...xs);
  // process= names the QEMU process nc-<id> (15 chars, the kernel's comm limit): ps shows which VM it is.
  push('-name', `guest=${def.name},process=nc-${def.id}`);
  push('-machine', `${def.machine},accel=${opts.accel}`);
  // QEMU's default CPU model, not -cpu host: host passes MSRs a nested KVM refuses (QEMU aborts), and a
  // named model keeps the VM migratable between hosts.
  push('-smp', String(def.cpus), '-m', String(def.memoryMB));
  push('-nodefaults', '-no-user-config', '-display', 'none', '-vga', 'std');
  // A powered-off guest leaves QEMU alive in "shutdown": whoever sees it records a clean stop and quits it.
  push('-no-shutdown');
  push('-vnc', `unix:${RUN_FILES.vnc}`);
  push('-chardev', `socket,id=serial0,path=${RUN_FILES.serial},server=on,wait=off,logfile=${escapeOpt(join(opts.vmDir, 'serial.log'))},logappend=on`);
  push('-serial', 'chardev:serial0');
  push('-chardev', `socket,id=qmp0,path=${RUN_FILES.qmp},server=on,wait=off`, '-mon', 'chardev=qmp0,mode=control');
  push('-chardev', `socket,id=qmp1,path=${RUN_FILES.qmpQuery},server=on,wait=off`, '-mon', 'chardev=qmp1,mode=control');
  push('-chardev', `socket,id=qmp2,path=${RUN_FILES.qmpHeld},server=on,wait=off`, '-mon', 'chardev=qmp2,mode=control');
  push('-pidfile', RUN_FILES.pidfile);
  push('-device', JSON.stringify({ driver: 'virtio-balloon-pci', id: 'balloon0' }));
  push('-chardev', `socket,id=qga0,path=${RUN_FILES.agent},server=on,wait=off`);
  push('-device', JSON.stringify({ driver: 'virtio-serial-pci', id: 'vser0' }));
  push('-device', JSON.stringify({ driver: 'virtserialport', chardev: 'qga0', name: 'org.qemu.guest_agent.0', id: 'qga0port' }));

  const bootFromCd = def.iso !== undefined && def.kernel === undefined;
  def.disks.forEach((d, i) => {
    push('-blockdev', JSON.stringify({ driver: 'file', filename: diskPath(opts.vmDir, d), 'node-name': `${d.node}-file` }));
    push('-blockdev', JSON.stringify({ driver: d.format, file: `${d.node}-file`, 'node-name': d.node }));
    const dev: Record<string, unknown> = { driver: 'virtio-blk-pci', drive: d.node, id: `vd${i}` };
    if (i === 0 && !bootFromCd && def.kernel === undefined) dev.bootindex = 1;
    push('-device', JSON.stringify(dev));
  });
  if (def.iso !== undefined) {
    push('-blockdev', JSON.stringify({ driver: 'file', filename: def.iso, 'node-name': 'cd0-file', 'read-only': true }));
    push('-blockdev', JSON.stringify({ driver: 'raw', file: 'cd0-file', 'node-name': 'cd0', 'read-only': true }));
    push('-device', JSON.stringify({ driver: 'ide-cd', drive: 'cd0', id: 'cd0dev', ...(bootFromCd ? { bootindex: 0 } : {}) }));
  }
  if (def.kernel !== undefined) {
    push('-kernel', def.kernel);
    if (def.initrd !== undefined) push('-initrd', def.initrd);
    if (def.append !== undefined) push('-append', def.append);
  }
  if (def.network === 'user') {
    const fwds = (opts.skipForwards ? [] : def.portForwards).map((p) => `,hostfwd=${hostfwd(p)}`).join('');
    push('-netdev', `user,id=net0${fwds}`);
    // No option ROM: nobody PXE-boots these VMs, and it costs boot time.
    push('-device', JSON.stringify({ driver: 'virtio-net-pci', netdev: 'net0', id: 'nic0', romfile: '' }));
  }
  // Without -S the destination takes the source's run state with the stream: running stays running, paused stays paused.
  if (opts.incoming !== undefined) push('-incoming', opts.incoming);
  return a;
}
