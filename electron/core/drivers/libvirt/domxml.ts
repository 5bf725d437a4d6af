import type { Accel } from '../../../../shared/drivers/kvm.js';
import { all, child, parseXml, textAt, x, writeXml, type XmlElement, type XmlNode } from './xml.js';

/** Where NovaCron's own facts live inside a domain's <metadata>: libvirt keeps them, virsh shows them. */
export const NC_NS = 'https://novacron.dev/xmlns/libvirt/1';

/** What NovaCron records about a domain it defined. */
export interface NovaMeta {
  createdAt?: string;
  createdBy?: string;
  /** The domain's folder in the data dir that made it: its disks, serial log and VNC socket. */
  dir?: string;
  /** NovaCron's node_id of the host that defined it. */
  node?: string;
}

export interface DomainDisk {
  device: 'disk' | 'cdrom' | 'floppy' | 'lun';
  /** file, block, network, volume, dir. */
  type: string;
  path?: string;
  format?: string;
  target: string;
  readonly: boolean;
}

export interface DomainFacts {
  uuid: string;
  name: string;
  /** qemu (TCG), kvm, … */
  type: string;
  memoryKiB: number;
  vcpus: number;
  machine?: string;
  arch?: string;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  disks: DomainDisk[];
  interfaces: string[];
  graphics: { type: string; port?: number; socket?: string; listen?: string }[];
  /** The pty of the serial console of a running domain. */
  consolePty?: string;
  /** The file the serial port is copied to, when one is configured. */
  serialLog?: string;
  hasNvram: boolean;
  nova?: NovaMeta;
}

const toKiB = (value: number, unit = 'KiB'): number => {
  const u = unit.toLowerCase();
  const mult: Record<string, number> = { b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, kb: 1000 / 1024, m: 1024, mib: 1024, mb: 1e6 / 1024, g: 1024 ** 2, gib: 1024 ** 2, gb: 1e9 / 1024, t: 1024 ** 3, tib: 1024 ** 3 };
  return Math.round(value * (mult[u] ?? 1));
};

function novaMeta(dom: XmlElement): NovaMeta | undefined {
  const meta = child(dom, 'metadata')?.children.find((c) => c.attrs[`xmlns:${c.name.split(':')[0]}`] === NC_NS || c.attrs.xmlns === NC_NS);
  if (!meta) return undefined;
  const get = (local: string) => meta.children.find((c) => c.name === local || c.name.endsWith(`:${local}`))?.text.trim() || undefined;
  const out: NovaMeta = {};
  const createdAt = get('created-at');
  const createdBy = get('created-by');
  const dir = get('dir');
  const node = get('node');
  if (createdAt) out.createdAt = createdAt;
  if (createdBy) out.createdBy = createdBy;
  if (dir) out.dir = dir;
  if (node) out.node = node;
  return out;
}

/** The facts NovaCron needs from `virsh dumpxml`. */
export function parseDomain(xml: string): DomainFacts {
  const dom = parseXml(xml);
  if (dom.name !== 'domain') throw new Error(`expected <domain>, got <${dom.name}>`);
  const mem = child(dom, 'memory');
  const vcpu = child(dom, 'vcpu');
  const osType = child(dom, 'os/type');
  const disks: DomainDisk[] = all(dom, 'devices/disk').map((d) => {
    const src = child(d, 'source');
    const path = src?.attrs.file ?? src?.attrs.dev ?? src?.attrs.name ?? src?.attrs.dir;
    return {
      device: (d.attrs.device ?? 'disk') as DomainDisk['device'],
      type: d.attrs.type ?? 'file',
      ...(path ? { path } : {}),
      ...(child(d, 'driver')?.attrs.type ? { format: child(d, 'driver')!.attrs.type! } : {}),
      target: child(d, 'target')?.attrs.dev ?? '',
      readonly: child(d, 'readonly') !== undefined,
    };
  });
  const consoleEl = all(dom, 'devices/console').find((c) => c.attrs.type === 'pty');
  const serialEl = all(dom, 'devices/serial')[0];
  const nova = novaMeta(dom);
  const facts: DomainFacts = {
    uuid: textAt(dom, 'uuid') ?? '',
    name: textAt(dom, 'name') ?? '',
    type: dom.attrs.type ?? 'unknown',
    memoryKiB: mem ? toKiB(Number(mem.text.trim()), mem.attrs.unit) : 0,
    vcpus: vcpu ? Number(vcpu.text.trim()) || 1 : 1,
    disks,
    interfaces: all(dom, 'devices/interface').map((i) => i.attrs.type ?? 'unknown'),
    graphics: all(dom, 'devices/graphics').map((g) => {
      const listen = child(g, 'listen');
      const socket = g.attrs.socket ?? (listen?.attrs.type === 'socket' ? listen.attrs.socket : undefined);
      const port = g.attrs.port !== undefined ? Number(g.attrs.port) : undefined;
      const address = g.attrs.listen ?? listen?.attrs.address;
      return { type: g.attrs.type ?? 'unknown', ...(port !== undefined && port > 0 ? { port } : {}), ...(socket ? { socket } : {}), ...(address ? { listen: address } : {}) };
    }),
    hasNvram: child(dom, 'os/nvram') !== undefined,
  };
  const machine = osType?.attrs.machine;
  if (machine) facts.machine = machine;
  if (osType?.attrs.arch) facts.arch = osType.attrs.arch;
  const kernel = textAt(dom, 'os/kernel');
  const initrd = textAt(dom, 'os/initrd');
  const cmdline = child(dom, 'os/cmdline')?.text;
  if (kernel) facts.kernel = kernel;
  if (initrd) facts.initrd = initrd;
  if (cmdline !== undefined && cmdline !== '') facts.cmdline = cmdline;
  const pty = consoleEl?.attrs.tty ?? child(consoleEl, 'source')?.attrs.path ?? (serialEl?.attrs.type === 'pty' ? child(serialEl, 'source')?.attrs.path : undefined);
  if (pty) facts.consolePty = pty;
  const log = child(serialEl, 'log')?.attrs.file;
  if (log) facts.serialLog = log;
  if (nova) facts.nova = nova;
  return facts;
}

/** A new domain, as the create form describes it (after the core resolved files and accel). */
export interface DomainPlan {
  uuid: string;
  name: string;
  accel: Exclude<Accel, 'auto'>;
  memoryMB: number;
  cpus: number;
  machine: string;
  disks: { path: string; format: string }[];
  iso?: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  network: 'user' | 'none';
  /** Writable by QEMU: the serial log and the VNC socket live here. */
  dir: string;
  /** A unix socket for VNC, or undefined for libvirt's usual 127.0.0.1 autoport. */
  vncSocket?: string;
  /** cache='none' on NovaCron's disks, where the filesystem takes O_DIRECT: what libvirt wants for live migration. */
  directIo: boolean;
  /** Run QEMU as this uid:gid without relabelling files (qemu:///system only); see create.ts. */
  dacLabel?: string;
  meta: NovaMeta;
}

/** SATA on q35, IDE on the i440fx boards: the CD's bus must exist on the machine. */
const cdBus = (machine: string) => (/q35/.test(machine) ? 'sata' : 'ide');

/** The domain XML of a plan. Every value goes through the writer's escaping. */
export function domainXml(p: DomainPlan): string {
  const bootFromCd = p.iso !== undefined && p.kernel === undefined;
  let order = 1;
  const cd =
    p.iso !== undefined
      ? x(
          'disk',
          { type: 'file', device: 'cdrom' },
          x('driver', { name: 'qemu', type: 'raw' }),
          x('source', { file: p.iso }),
          x('target', { dev: cdBus(p.machine) === 'sata' ? 'sda' : 'hdc', bus: cdBus(p.machine) }),
          x('readonly'),
          bootFromCd ? x('boot', { order: order++ }) : undefined,
        )
      : undefined;
  const disks = p.disks.map((d, i) =>
    x(
      'disk',
      { type: 'file', device: 'disk' },
      x('driver', { name: 'qemu', type: d.format, ...(p.directIo && d.path.startsWith(`${p.dir}/`) ? { cache: 'none' } : {}) }),
      x('source', { file: d.path }),
      x('target', { dev: `vd${String.fromCharCode(97 + i)}`, bus: 'virtio' }),
      i === 0 && p.kernel === undefined ? x('boot', { order: order++ }) : undefined,
    ),
  );
  const meta = x(
    'nc:novacron',
    { 'xmlns:nc': NC_NS },
    p.meta.createdAt ? x('nc:created-at', undefined, p.meta.createdAt) : undefined,
    p.meta.createdBy ? x('nc:created-by', undefined, p.meta.createdBy) : undefined,
    p.meta.node ? x('nc:node', undefined, p.meta.node) : undefined,
    x('nc:dir', undefined, p.dir),
  );
  const graphics = p.vncSocket
    ? x('graphics', { type: 'vnc' }, x('listen', { type: 'socket', socket: p.vncSocket }))
    : x('graphics', { type: 'vnc', autoport: 'yes', listen: '127.0.0.1' }, x('listen', { type: 'address', address: '127.0.0.1' }));
  const dom: XmlNode = x(
    'domain',
    { type: p.accel === 'kvm' ? 'kvm' : 'qemu' },
    x('name', undefined, p.name),
    x('uuid', undefined, p.uuid),
    x('metadata', undefined, meta),
    x('memory', { unit: 'MiB' }, String(p.memoryMB)),
    x('vcpu', undefined, String(p.cpus)),
    x(
      'os',
      undefined,
      x('type', { arch: 'x86_64', machine: p.machine }, 'hvm'),
      p.kernel !== undefined ? x('kernel', undefined, p.kernel) : undefined,
      p.initrd !== undefined ? x('initrd', undefined, p.initrd) : undefined,
      p.append !== undefined ? x('cmdline', undefined, p.append) : undefined,
    ),
    x('features', undefined, x('acpi'), x('apic')),
    x('on_poweroff', undefined, 'destroy'),
    x('on_reboot', undefined, 'restart'),
    x('on_crash', undefined, 'destroy'),
    x(
      'devices',
      undefined,
      ...disks,
      cd,
      p.network === 'user' ? x('interface', { type: 'user' }, x('model', { type: 'virtio' })) : undefined,
      x('serial', { type: 'pty' }, x('log', { file: `${p.dir}/serial.log`, append: 'on' }), x('target', { port: 0 })),
      x('console', { type: 'pty' }, x('target', { type: 'serial', port: 0 })),
      // The guest agent's channel, as the kvm driver gives every VM: what only the guest knows.
      x('channel', { type: 'unix' }, x('target', { type: 'virtio', name: 'org.qemu.guest_agent.0' })),
      graphics,
      x('video', undefined, x('model', { type: 'vga' })),
      x('memballoon', { model: 'virtio' }),
    ),
    p.dacLabel ? x('seclabel', { type: 'static', model: 'dac', relabel: 'no' }, x('label', undefined, p.dacLabel)) : undefined,
  );
  return `${writeXml(dom)}\n`;
}
