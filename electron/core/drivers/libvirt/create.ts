import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LibvirtCreateSpec } from '../../../../shared/drivers/libvirt.js';
import type { WorkloadInfo } from '../../../../shared/model.js';
import { driverError, invalid, NovaError } from '../../base/errors.js';
import { MAX_SOCKET_PATH } from '../../base/unix-socket.js';
import type { OpContext } from '../driver.js';
import { checkDiskSpace, checkDiskSpecs, checkReadableFile, makeDisks } from '../kvm/disks.js';
import type { Lv } from './context.js';
import type { LvHost } from './detect.js';
import { domainXml, type DomainPlan } from './domxml.js';
import { D } from './virsh.js';

/** The kvm driver's file checks speak for kvm; here the same words belong to libvirt. */
async function asLibvirt<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof NovaError && e.driver === 'kvm') throw new NovaError(e.code, e.message.replace(/^kvm: /, ''), { driver: D, ...(e.field ? { field: e.field } : {}) });
    throw e;
  }
}

/** auto means kvm where libvirt offers kvm domains and the admin allows it (kvm.enable_kvm, shared with the kvm driver). */
export function resolveAccel(accel: LibvirtCreateSpec['accel'], host: LvHost, enableKvm: boolean): 'kvm' | 'tcg' {
  if (accel !== 'auto') return accel;
  return host.kvm && enableKvm ? 'kvm' : 'tcg';
}

/** Whether QEMU can open files here with O_DIRECT (cache='none'); tmpfs and some FUSE mounts cannot. */
async function takesDirectIo(dir: string): Promise<boolean> {
  const probe = join(dir, '.o_direct');
  try {
    const fh = await open(probe, constants.O_CREAT | constants.O_WRONLY | constants.O_DIRECT, 0o600);
    await fh.close();
    return true;
  } catch {
    return false;
  } finally {
    await rm(probe, { force: true });
  }
}

/**
 * QEMU under qemu:///system runs as libvirt's own user, which cannot reach a private data
 * dir (0700, often under /root) and would have libvirt chown our files to it. A domain
 * NovaCron defines runs its QEMU as the data dir's owner instead (a static DAC label,
 * no relabelling): the same user the kvm driver's QEMU runs as, reading what NovaCron
 * checked it can read. A session daemon already runs QEMU as its user.
 */
export function dacLabel(uri: string): string | undefined {
  const system = /^[a-z0-9+]+:\/\/[^/]*\/system\b/.test(uri);
  if (!system || !process.getuid || !process.getgid) return undefined;
  return `+${process.getuid()}:+${process.getgid()}`;
}

async function checkCreate(lv: Lv, s: LibvirtCreateSpec, host: LvHost, signal: AbortSignal) {
  const hostMiB = host.memoryKiB ? Math.floor(host.memoryKiB / 1024) : undefined;
  if (hostMiB !== undefined && s.memoryMB > hostMiB) throw invalid('memoryMB', `${s.memoryMB} MiB is more than this host's ${hostMiB} MiB`, D);
  if (host.cpus !== undefined && s.cpus > host.cpus) throw invalid('cpus', `${s.cpus} vCPUs are more than this host's ${host.cpus} CPUs`, D);
  if (host.machines.size && !host.machines.has(s.machine)) throw invalid('machine', `'${s.machine}' is not a machine type libvirt offers here (virsh capabilities)`, D);
  if (s.accel === 'kvm' && !host.kvm) throw invalid('accel', 'libvirt offers no kvm domains on this host (/dev/kvm missing or not usable)', D);
  if (s.portForwards.length) {
    throw invalid('portForwards', "libvirt's user-mode network has no port forwards here (libvirt 9 forwards ports only with the passt backend): leave them out, or give the domain a libvirt network by hand", D);
  }
  await asLibvirt(
    (async () => {
      if (s.iso) await checkReadableFile('iso', s.iso);
      if (s.kernel) await checkReadableFile('kernel', s.kernel);
      if (s.initrd) await checkReadableFile('initrd', s.initrd);
    })(),
  );
  await mkdir(lv.base, { recursive: true, mode: 0o700 });
  await asLibvirt(checkDiskSpace(s.disks, lv.base));
  return asLibvirt(checkDiskSpecs(lv.config['kvm.qemu_img_binary'], s.disks, signal));
}

/**
 * Define a domain from the VM form: disks made with qemu-img in the domain's own folder
 * of the data dir (existing images are used in place), the domain XML generated from the
 * spec and given to `virsh define`. Not started: start is its own step, as with kvm.
 */
export async function create(lv: Lv, s: LibvirtCreateSpec, ctx: OpContext): Promise<WorkloadInfo> {
  if (!lv.local) {
    throw driverError(D, 'NOT_SUPPORTED', `new domains are defined on a local connection only (their disks and logs live in this data dir); ${lv.uri} is remote: define it there, NovaCron lists and drives it`);
  }
  const host = await lv.host(ctx.signal);
  const infos = await checkCreate(lv, s, host, ctx.signal);
  return lv.withLock(`name-${s.name}`, `create by ${ctx.origin}`, `name '${s.name}'`, async () => {
    const taken = await lv.virsh.run(['domuuid', s.name], { signal: ctx.signal }).then((o) => o.trim(), () => undefined);
    if (taken) throw driverError(D, 'CONFLICT', `a domain named '${s.name}' already exists on ${lv.uri} (${taken})`);
    const uuid = randomUUID();
    const dir = lv.dirOf(uuid);
    const partial = join(lv.base, `.partial-${uuid}`);
    await mkdir(partial, { mode: 0o700 });
    try {
      const disks = await asLibvirt(makeDisks(lv.config['kvm.qemu_img_binary'], s.disks, infos, partial, ctx));
      await rename(partial, dir);
      const vnc = join(dir, 'vnc.sock');
      const label = dacLabel(lv.uri);
      const plan: DomainPlan = {
        uuid,
        name: s.name,
        accel: resolveAccel(s.accel, host, lv.config['kvm.enable_kvm']),
        memoryMB: s.memoryMB,
        cpus: s.cpus,
        machine: s.machine,
        disks: disks.map((d) => ({ path: d.file ? join(dir, d.file) : d.path!, format: d.format })),
        ...(s.iso ? { iso: s.iso } : {}),
        ...(s.kernel ? { kernel: s.kernel } : {}),
        ...(s.initrd ? { initrd: s.initrd } : {}),
        ...(s.append !== undefined ? { append: s.append } : {}),
        network: s.network,
        dir,
        // A socket path longer than the kernel allows falls back to VNC on 127.0.0.1.
        ...(Buffer.byteLength(vnc) <= MAX_SOCKET_PATH ? { vncSocket: vnc } : {}),
        directIo: await takesDirectIo(dir),
        ...(label ? { dacLabel: label } : {}),
        meta: { createdAt: new Date().toISOString(), createdBy: ctx.origin, node: lv.config.node_id },
      };
      await defineXml(lv, dir, domainXml(plan), ctx.signal);
    } catch (e) {
      await rm(partial, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    ctx.progress({ label: `domain '${s.name}' defined`, done: 1, total: 1, unit: 'steps' });
    return lv.domains.info(uuid, ctx.signal);
  });
}

/** `virsh define` from a file in the domain's folder: virsh reads it locally and hands libvirtd the XML. */
export async function defineXml(lv: Lv, dir: string, xml: string, signal: AbortSignal): Promise<void> {
  const file = join(dir, 'domain.xml');
  await writeFile(file, xml, { mode: 0o600 });
  await lv.virsh.run(['define', file], { signal });
}
