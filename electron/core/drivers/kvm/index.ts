import type { KvmCreateSpec } from '../../../../shared/drivers/kvm.js';
import type { WorkloadDetail, WorkloadInfo } from '../../../../shared/model.js';
import { DisposableStore } from '../../base/lifecycle.js';
import { ToolFacts } from '../../base/tool-facts.js';
import { tailFile } from '../../base/tail.js';
import type { Detection, Driver, DriverEnv, LogSink } from '../driver.js';
import { RUN_FILES } from './args.js';
import { D, Kvm } from './context.js';
import { detectHost, type KvmHost } from './detect.js';
import * as f from './features.js';
import * as life from './lifecycle.js';
import { VmStore } from './store.js';
import { watchVms } from './watch.js';
import { join } from 'node:path';

/**
 * QEMU virtual machines, driven directly: one directory per VM, QEMU detached so VMs
 * outlive the app, every NovaCron process reattaching through QMP.
 */
export async function createKvmDriver(env: DriverEnv): Promise<Driver> {
  const store = new VmStore(env.config['kvm.vm_base_path'], join(env.paths.run, 'kvm'));
  let hostP: Promise<KvmHost> | undefined;
  const facts = ToolFacts.at(join(env.paths.state, 'tool-facts.json'));
  const host = () => (hostP ??= detectHost(env.config['kvm.qemu_binary'], env.config['kvm.qemu_img_binary'], facts));
  const kvm = new Kvm(store, env.config, host);
  void store.sweep();

  const list = async (): Promise<WorkloadInfo[]> => {
    const ids = await store.ids();
    const rows = await Promise.all(
      ids.map(async (id) => {
        // The snapshot re-reads a VM's files only when one changed: the watcher lists every second.
        const snap = await store.snapshot(id).catch(() => undefined);
        if (!snap) return undefined;
        const seen = await kvm.observe(snap.def, snap.run);
        return kvm.infoOf(snap.def, seen, seen.run ?? snap.run);
      }),
    );
    return rows.filter((r): r is WorkloadInfo => r !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  };

  const driver: Driver = {
    id: D,
    name: 'QEMU/KVM',
    limits: { memory: true, cpu: true },
    notImplemented: {
      images: 'VM disks are made per VM (new qcow2, existing image or linked clone of a base image); there is no shared image store',
    },

    async detect(): Promise<Detection> {
      const h = await host();
      if (!h.qemu || !h.qemuImg) return { available: false, reason: h.problem ?? 'QEMU is not installed' };
      const auto = kvm.config['kvm.enable_kvm'] ? (h.kvmProblem ? `tcg (${h.kvmProblem})` : 'kvm') : 'tcg (kvm.enable_kvm is false)';
      return {
        available: true,
        version: h.qemu.version,
        details: {
          qemu: h.qemu.path,
          qemu_img: h.qemuImg.path,
          accelerator: auto,
          vm_base_path: store.base,
          scale: 'memory of a running VM through the virtio balloon, up to its boot size; vCPUs and growth take effect at the next start',
          metrics: 'CPU and RSS of the QEMU process, disk bytes (query-blockstats), guest memory (balloon); network bytes from the QEMU guest agent where the guest runs one (QEMU keeps no counters for user-mode networking)',
          console: 'VNC on a unix socket, through the core proxy; serial console as a terminal',
        },
      };
    },

    list: () => list(),
    info: async (local) => kvm.infoOf(await kvm.load(local)),

    async inspect(local): Promise<WorkloadDetail> {
      const def = await kvm.load(local);
      const seen = await kvm.observe(def);
      const run = seen.run ?? (await store.runState(def.id));
      const info = await kvm.infoOf(def, seen, run);
      const alive = seen.state === 'running' || seen.state === 'paused';
      const planned = await kvm.accelFor(def);
      return {
        info,
        config: {
          memoryMB: def.memoryMB,
          cpus: def.cpus,
          disks: def.disks.map((d) => ({ node: d.node, path: d.file ? join(store.dir(def.id), d.file) : d.path, format: d.format, ...(d.base ? { base: d.base } : {}), owned: d.file !== undefined })),
          iso: def.iso ?? null,
          kernel: def.kernel ?? null,
          initrd: def.initrd ?? null,
          append: def.append ?? null,
          network: def.network,
          portForwards: def.portForwards.map((p) => `${p.protocol}:${p.hostAddress}:${p.hostPort}→${p.guestPort}`),
          machine: def.machine,
          accel: def.accel,
        },
        runtime: {
          accel: alive ? (run.accel ?? null) : `${planned.accel} at next start (${planned.why})`,
          qemu_status: seen.status ?? null,
          pid: alive ? (run.pid ?? null) : null,
          dir: store.dir(def.id),
          run_dir: alive ? (run.runDir ?? null) : null,
          qmp_socket: alive && run.runDir ? join(run.runDir, RUN_FILES.qmp) : null,
          vnc_socket: alive && run.runDir ? join(run.runDir, RUN_FILES.vnc) : null,
          serial_socket: alive && run.runDir ? join(run.runDir, RUN_FILES.serial) : null,
          serial_log: store.file(def.id, 'serial.log'),
          qemu_log: store.file(def.id, 'qemu.log'),
          started_at: alive ? (run.startedAt ?? null) : null,
          stopped_at: run.stoppedAt ?? null,
        },
      };
    },

    create: (spec, ctx) => life.create(kvm, spec as KvmCreateSpec, ctx),
    // start and delete read the VM under its lock and refuse a live one themselves (lifecycle.ts).
    refusesActive: true,
    start: (local, ctx) => life.start(kvm, local, ctx),
    stop: (local, opts, ctx) => life.stop(kvm, local, opts, ctx),
    restart: (local, ctx) => life.reboot(kvm, local, ctx),
    pause: (local, ctx) => life.setRunning(kvm, local, ctx, true),
    resume: (local, ctx) => life.setRunning(kvm, local, ctx, false),
    delete: (local, opts, ctx) => life.remove(kvm, local, opts, ctx),

    metrics: (local) => f.metrics(kvm, local),
    scale: (local, r, ctx) => f.scale(kvm, local, r, ctx),
    migrate: (local, to, ctx) => f.migrate(kvm, local, to, ctx),
    console: (local) => f.consoleOf(kvm, local),
    terminal: (local, opts, signal) => f.terminal(kvm, local, opts.kind, signal),
    snapshots: {
      list: (local, signal) => f.listSnapshots(kvm, local, signal),
      create: (local, name, ctx) => f.snapshotCreate(kvm, local, name, ctx),
      revert: (local, name, ctx) => f.snapshotRevert(kvm, local, name, ctx),
      delete: (local, name, ctx) => f.snapshotDelete(kvm, local, name, ctx),
    },

    /** The serial log as stdout, QEMU's own messages as stderr. */
    logs(local, opts, sink: LogSink) {
      const out = new DisposableStore();
      let ended = 0;
      kvm.load(local).then(
        (def) => {
          for (const [stream, file] of [['stdout', 'serial.log'], ['stderr', 'qemu.log']] as const) {
            out.add(
              tailFile(
                store.file(def.id, file),
                { follow: opts.follow, ...(opts.tail !== undefined ? { tail: opts.tail } : {}) },
                (lines) => lines.forEach((line) => sink.line({ stream, line: line.replace(/\r$/, '') })),
                () => {
                  if (++ended === 2) sink.end();
                },
                (e) => sink.error(e),
              ),
            );
          }
        },
        (e: unknown) => sink.error(e),
      );
      return out;
    },

    dispose: () => {
      kvm.held.dispose();
      kvm.qemuStats.dispose();
    },

    watch: (emit) =>
      watchVms(
        list,
        emit,
        async (w) => {
          const run = (await store.snapshot(w.id.slice(D.length + 1)))?.run;
          return run?.pid !== undefined && run.startTicks !== undefined ? { pid: run.pid, startTicks: run.startTicks } : undefined;
        },
        kvm.qemuStats,
      ),
  };
  return driver;
}
