import { randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseWorkloadId, workloadId, type DriverId } from '../../../../shared/ids.js';
import { driverError, invalid, isNodeError } from '../../base/errors.js';
import { MAX_SOCKET_PATH } from '../../base/unix-socket.js';
import type { OpContext } from '../driver.js';
import { imageInfo } from '../kvm/disks.js';
import { observe } from '../kvm/runtime.js';
import { VmStore, type VmDefinition, type VmDisk } from '../kvm/store.js';
import { what, type Lv } from './context.js';
import { dacLabel, defineXml, resolveAccel } from './create.js';
import { domainXml } from './domxml.js';
import { domstate, onDomain } from './lifecycle.js';
import { D } from './virsh.js';

/**
 * Import and export between NovaCron's own QEMU VMs (the kvm driver) and libvirt
 * domains. A conversion MOVES the VM: its disks change folders, the new definition is
 * written, then the old one goes with its folder.
 * Both sides are never defined over the same disks, so neither can boot a disk the other
 * is running. Disks outside the data dir (images an admin pointed at) stay where they are
 * and are used in place. Only a stopped VM converts.
 */

export const CONVERTS = [
  { from: 'kvm', to: 'libvirt' },
  { from: 'libvirt', to: 'kvm' },
] as const satisfies readonly { from: DriverId; to: DriverId }[];

/**
 * A disk's second name in its new folder: a hard link (a copy across filesystems). The
 * old name goes only when the new definition is in place, so a failure at any step leaves
 * the source VM whole: undoing is deleting the new folder.
 */
async function adopt(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (e) {
    if (!isNodeError(e, 'EXDEV')) throw e;
    await copyFile(from, to);
  }
}

const kvmStore = (lv: Lv) => new VmStore(lv.config['kvm.vm_base_path'], join(lv.env.paths.run, 'kvm'));

function requireLocal(lv: Lv): void {
  if (!lv.local) throw driverError(D, 'NOT_SUPPORTED', `conversions need a local connection: the disks move within this data dir, and ${lv.uri} is remote`);
}

/** A stopped kvm VM becomes a libvirt domain with the same devices; its own disks move into the domain's folder. */
export async function kvmToLibvirt(lv: Lv, local: string, opts: { name?: string }, ctx: OpContext): Promise<string> {
  requireLocal(lv);
  const host = await lv.host(ctx.signal);
  const store = kvmStore(lv);
  const def = await store.definition(local);
  if (!def) throw driverError('kvm', 'NOT_FOUND', `no VM '${local}'`);
  const name = opts.name ?? def.name;
  return store.withLock(def.id, `convert to libvirt by ${ctx.origin}`, `VM '${def.name}'`, () =>
    lv.withLock(`name-${name}`, `convert by ${ctx.origin}`, `name '${name}'`, async () => {
      const seen = await observe(store, def);
      if (seen.state === 'running' || seen.state === 'paused') throw driverError('kvm', 'CONFLICT', `VM '${def.name}' is ${seen.state}: stop it before converting it`);
      const taken = await lv.virsh.run(['domuuid', name], { signal: ctx.signal }).then((o) => o.trim(), () => undefined);
      if (taken) throw driverError(D, 'CONFLICT', `a domain named '${name}' already exists on ${lv.uri} (${taken})`);
      if (def.portForwards.length) ctx.progress({ label: `warning: ${def.portForwards.length} port forward(s) not carried over: libvirt's user network has none`, done: 0, unit: 'steps' });
      const uuid = randomUUID();
      const dir = lv.dirOf(uuid);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      try {
        const disks: { path: string; format: string }[] = [];
        for (const [i, d] of def.disks.entries()) {
          ctx.progress({ label: `disk ${i + 1}/${def.disks.length}`, done: i, total: def.disks.length, unit: 'steps' });
          if (d.file) {
            await adopt(join(store.dir(def.id), d.file), join(dir, d.file));
            disks.push({ path: join(dir, d.file), format: d.format });
          } else disks.push({ path: d.path!, format: d.format });
        }
        const label = dacLabel(lv.uri);
        const vnc = join(dir, 'vnc.sock');
        const accel = def.accel === 'auto' ? resolveAccel('auto', host, lv.config['kvm.enable_kvm']) : def.accel;
        const xml = domainXml({
          uuid,
          name,
          accel,
          memoryMB: def.memoryMB,
          cpus: def.cpus,
          machine: def.machine,
          disks,
          ...(def.iso ? { iso: def.iso } : {}),
          ...(def.kernel ? { kernel: def.kernel } : {}),
          ...(def.initrd ? { initrd: def.initrd } : {}),
          ...(def.append !== undefined ? { append: def.append } : {}),
          network: def.network,
          dir,
          ...(Buffer.byteLength(vnc) <= MAX_SOCKET_PATH ? { vncSocket: vnc } : {}),
          directIo: false,
          ...(label ? { dacLabel: label } : {}),
          meta: { createdAt: def.createdAt, createdBy: `${ctx.origin} (from kvm:${def.id})`, node: lv.config.node_id },
        });
        await defineXml(lv, dir, xml, ctx.signal);
      } catch (e) {
        await rm(dir, { recursive: true, force: true });
        throw e;
      }
      // The domain is defined over the new names: the VM's folder, old names and all, goes.
      await store.remove(def);
      return workloadId(D, uuid);
    }),
  );
}

/** The kvm VM definition of a shut off domain: what its XML says, in the kvm driver's words. */
function kvmDefOf(f: Awaited<ReturnType<Lv['domains']['factsOf']>>, name: string, ctx: OpContext): Omit<VmDefinition, 'id' | 'version' | 'createdAt' | 'disks'> {
  const bad = f.disks.find((d) => d.type !== 'file' && d.path);
  if (bad) throw driverError(D, 'NOT_SUPPORTED', `${what(f)}: disk ${bad.target} is a ${bad.type} disk; the kvm driver takes image files only`);
  const cds = f.disks.filter((d) => d.device === 'cdrom' && d.path);
  if (cds.length > 1) throw driverError(D, 'NOT_SUPPORTED', `${what(f)} has ${cds.length} CDs; a kvm VM has one`);
  const memoryMB = Math.round(f.memoryKiB / 1024);
  if (memoryMB < 16) throw invalid('memoryMB', `${what(f)} has ${memoryMB} MiB; a kvm VM needs at least 16`, D);
  if (f.interfaces.some((t) => t !== 'user')) {
    ctx.progress({ label: `warning: the ${f.interfaces.join(', ')} network interface(s) become QEMU user networking`, done: 0, unit: 'steps' });
  }
  return {
    name,
    memoryMB,
    cpus: f.vcpus,
    ...(cds[0] ? { iso: cds[0].path! } : {}),
    ...(f.kernel ? { kernel: f.kernel } : {}),
    ...(f.initrd ? { initrd: f.initrd } : {}),
    ...(f.cmdline !== undefined ? { append: f.cmdline } : {}),
    network: f.interfaces.length ? 'user' : 'none',
    portForwards: [],
    machine: f.machine ?? 'pc',
    accel: f.type === 'kvm' ? 'auto' : 'tcg',
  };
}

/** A shut off domain becomes a kvm VM; disks in the folder NovaCron made for it move into the VM's. Then it is undefined. */
export async function libvirtToKvm(lv: Lv, local: string, opts: { name?: string }, ctx: OpContext): Promise<string> {
  requireLocal(lv);
  const store = kvmStore(lv);
  return onDomain(lv, local, 'convert to kvm', ctx, async (f) => {
    const state = await domstate(lv, f.uuid, ctx.signal);
    if (state !== 'shut off') throw driverError(D, 'CONFLICT', `${what(f)} is ${state}: shut it off before converting it`);
    const spec = kvmDefOf(f, opts.name ?? f.name, ctx);
    const qemuImg = lv.config['kvm.qemu_img_binary'];
    const own = lv.owns(f) ? `${lv.dirOf(f.uuid)}/` : undefined;
    const disks = f.disks.filter((d) => d.device === 'disk' && d.path);
    const def = await store.create(spec, ctx.origin, async (vmDir) => {
      const out: VmDisk[] = [];
      for (const [i, d] of disks.entries()) {
        ctx.progress({ label: `disk ${i + 1}/${disks.length}`, done: i, total: disks.length, unit: 'steps' });
        const info = await imageInfo(qemuImg, d.path!, ctx.signal, true);
        const node = `d${i}`;
        const base = info['backing-filename'] ? { base: info['backing-filename'] } : {};
        if (own && d.path!.startsWith(own)) {
          const file = `${node}.${info.format === 'qcow2' ? 'qcow2' : 'img'}`;
          await adopt(d.path!, join(vmDir, file));
          out.push({ node, file, format: info.format, virtualSizeBytes: info['virtual-size'], ...base });
        } else out.push({ node, path: d.path!, format: info.format, virtualSizeBytes: info['virtual-size'], ...base });
      }
      return out;
    });
    try {
      await lv.virsh.run(['undefine', f.uuid, '--snapshots-metadata', '--managed-save', ...(f.hasNvram ? ['--nvram'] : [])], { signal: ctx.signal });
    } catch (e) {
      // The domain stays as it was; the new VM (its folder holds only second names of the disks) goes.
      await store.remove(def).catch(() => undefined);
      throw e;
    }
    lv.domains.forget(f.uuid);
    if (lv.owns(f)) await rm(lv.dirOf(f.uuid), { recursive: true, force: true });
    return workloadId('kvm', def.id);
  });
}

/** The driver's `convert`: which way is told by the source's driver. */
export async function convert(lv: Lv, sourceId: string, to: DriverId, opts: { name?: string }, ctx: OpContext): Promise<string> {
  const ref = parseWorkloadId(sourceId);
  if (ref?.driver === 'kvm' && to === 'libvirt') return kvmToLibvirt(lv, ref.local, opts, ctx);
  if (ref?.driver === 'libvirt' && to === 'kvm') return libvirtToKvm(lv, ref.local, opts, ctx);
  throw driverError(D, 'NOT_SUPPORTED', `${ref?.driver ?? sourceId} → ${to}: the libvirt driver converts kvm VMs to domains and back`);
}
