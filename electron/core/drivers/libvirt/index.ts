import type { LibvirtCreateSpec } from '../../../../shared/drivers/libvirt.js';
import type { WorkloadDetail } from '../../../../shared/model.js';
import type { Detection, Driver, DriverEnv } from '../driver.js';
import { Lv } from './context.js';
import { vncEndpoint } from './console.js';
import { convert, CONVERTS } from './convert.js';
import { create } from './create.js';
import { accelOf } from './domains.js';
import * as life from './lifecycle.js';
import { domainLogs, qemuLogPath } from './logs.js';
import { BulkStats } from './metrics.js';
import { migrate } from './migrate.js';
import { serialTerminal } from './serial.js';
import * as snaps from './snapshots.js';
import { D } from './virsh.js';
import { watchDomains } from './watch.js';

/**
 * Domains of a libvirt daemon (qemu:///system by default, qemu:///session, or a remote
 * qemu+ssh:// host), driven through `virsh` with argument arrays: every domain the admin
 * has, whoever defined it, beside the ones NovaCron defines from the VM form.
 */
export function createLibvirtDriver(env: DriverEnv): Driver {
  const lv = new Lv(env);
  const stats = new BulkStats(lv);

  const driver: Driver = {
    id: D,
    name: 'libvirt',
    limits: { memory: true, cpu: true },
    converts: CONVERTS,
    notImplemented: {
      images: 'disks are made per domain in its folder, or existing images are used in place; libvirt storage pools are left to the admin',
      scale: 'memory and vCPUs are part of the domain definition: change them with virsh setmem/setvcpus or virt-manager',
    },

    async detect(signal): Promise<Detection> {
      const r = await lv.probe(signal, true);
      if (!r.ok) return { available: false, reason: r.reason, ...(r.absent ? { absent: true } : {}) };
      const h = r.host;
      const remote = !lv.local;
      return {
        available: true,
        version: `libvirt ${h.daemon ?? h.libvirt}${h.hypervisor ? `, ${h.hypervisor}` : ''}`,
        ...(remote
          ? {
              unsupported: {
                create: `new domains are defined on a local connection only; ${lv.uri} is remote`,
                logs: `a domain's logs are files on its host; ${lv.uri} is remote`,
              },
            }
          : {}),
        details: {
          uri: lv.uri,
          connection: remote ? 'remote' : 'local',
          library: `libvirt ${h.libvirt}`,
          ...(h.daemon ? { daemon: `libvirt ${h.daemon}` } : {}),
          ...(h.hypervisor ? { hypervisor: h.hypervisor } : {}),
          accelerator: h.kvm ? (env.config['kvm.enable_kvm'] ? 'kvm for auto (libvirt offers kvm domains)' : 'tcg for auto (kvm.enable_kvm is false)') : "tcg (libvirt offers no kvm domains here): type='qemu'",
          domain_dirs: lv.base,
          metrics: 'one virsh domstats for every running domain, shared by all watchers (CPU time, QEMU RSS, balloon, block and interface bytes)',
          console: remote ? 'VNC where it listens on a reachable address; serial through virsh console' : 'VNC from domdisplay (unix socket or 127.0.0.1) through the core proxy; serial console on the domain PTY',
          migration: `virsh migrate --live --persistent --undefinesource to qemu+ssh:// or qemu+tcp://${env.config['libvirt.shared_storage'] ? ' (--unsafe: libvirt.shared_storage is set)' : ''}`,
        },
      };
    },

    list: (signal) => lv.domains.list(signal),
    info: (local, signal) => lv.domains.info(local, signal),

    async inspect(local, signal): Promise<WorkloadDetail> {
      const uuid = lv.domains.check(local);
      const f = await lv.domains.factsOf(uuid, signal, true);
      const info = await lv.domains.info(uuid, signal);
      const alive = info.state === 'running' || info.state === 'paused';
      const vnc = f.graphics.find((g) => g.type === 'vnc');
      return {
        info,
        config: {
          uuid,
          type: f.type,
          memoryMB: Math.round(f.memoryKiB / 1024),
          cpus: f.vcpus,
          machine: f.machine ?? null,
          disks: f.disks.filter((d) => d.path).map((d) => ({ device: d.device, target: d.target, path: d.path, format: d.format ?? null, owned: lv.owns(f) && d.path!.startsWith(`${lv.dirOf(uuid)}/`) })),
          kernel: f.kernel ?? null,
          initrd: f.initrd ?? null,
          append: f.cmdline ?? null,
          network: f.interfaces.length ? f.interfaces.join(', ') : 'none',
          created_by: f.nova?.createdBy ?? null,
        },
        runtime: {
          uri: lv.uri,
          accel: accelOf(f.type) ?? null,
          dir: lv.owns(f) ? lv.dirOf(uuid) : null,
          vnc: vnc ? (vnc.socket ?? (alive && vnc.port ? `${vnc.listen ?? '127.0.0.1'}:${vnc.port}` : null)) : null,
          console_pty: alive ? (f.consolePty ?? null) : null,
          serial_log: f.serialLog ?? null,
          qemu_log: lv.local ? qemuLogPath(lv.uri, f.name) : null,
        },
      };
    },

    create: (spec, ctx) => create(lv, spec as LibvirtCreateSpec, ctx),
    start: (local, ctx) => life.start(lv, local, ctx),
    stop: (local, opts, ctx) => life.stop(lv, local, opts, ctx),
    restart: (local, ctx) => life.reboot(lv, local, ctx),
    pause: (local, ctx) => life.suspend(lv, local, ctx),
    resume: (local, ctx) => life.resume(lv, local, ctx),
    delete: (local, opts, ctx) => life.remove(lv, local, opts, ctx),

    metrics: (local) => stats.sample(local),
    console: (local, signal) => vncEndpoint(lv, local, signal),
    terminal: (local, opts, signal) => serialTerminal(lv, local, opts.kind, signal),
    logs: (local, opts, sink) => domainLogs(lv, local, opts, sink),
    migrate: (local, to, ctx) => migrate(lv, local, to, ctx),
    snapshots: {
      list: (local, signal) => snaps.list(lv, local, signal),
      create: (local, name, ctx) => snaps.create(lv, local, name, ctx),
      revert: (local, name, ctx) => snaps.revert(lv, local, name, ctx),
      delete: (local, name, ctx) => snaps.remove(lv, local, name, ctx),
    },
    convert: (sourceId, to, opts, ctx) => convert(lv, sourceId, to, opts, ctx),

    watch: (emit) => watchDomains(lv.virsh, () => lv.domains.list(), emit),
  };
  internals.set(driver, { lv, stats });
  return driver;
}

const internals = new WeakMap<Driver, { lv: Lv; stats: BulkStats }>();

/** The connection and the bulk metrics reader behind a libvirt driver instance: for tests that count calls. */
export function libvirtInternals(d: Driver): { lv: Lv; stats: BulkStats } | undefined {
  return internals.get(d);
}
