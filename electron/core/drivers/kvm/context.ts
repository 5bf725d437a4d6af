import type { Config } from '../../../../shared/config.js';
import type { WorkloadInfo } from '../../../../shared/model.js';
import { workloadId } from '../../../../shared/ids.js';
import { driverError } from '../../base/errors.js';
import { resolveAccel, type KvmHost } from './detect.js';
import { PinnedSet } from '../../base/pinned.js';
import { HeldMonitors } from './held.js';
import { OverlayTemplates } from './overlays.js';
import { join } from 'node:path';
import type { PinnedStat } from '../../base/pinned-stat.js';
import { withQmp, type QmpClient, type QmpConnectOptions } from './qmp.js';
import { observe, qmpPath, type Observed } from './runtime.js';
import type { VmDefinition, VmRunState, VmStore } from './store.js';

export const D = 'kvm';

/** What every part of the kvm driver shares: the store, the config, the host facts. */
export class Kvm {
  /** The QMP connections this process keeps open to running VMs. */
  readonly held = new HeldMonitors();
  /** The /proc stat of each watched VM's QEMU, kept open (keyed pid:startTicks); closed once nobody reads it. */
  readonly qemuStats = new PinnedSet<PinnedStat>();
  /** Linked clones are copies of one qemu-img made overlay per base image, kept beside the VMs. */
  readonly overlays: OverlayTemplates;

  constructor(
    readonly store: VmStore,
    readonly config: Config,
    readonly host: () => Promise<KvmHost>,
  ) {
    this.overlays = new OverlayTemplates(join(store.base, '.overlays'));
  }

  get qemu(): string {
    return this.config['kvm.qemu_binary'];
  }
  get qemuImg(): string {
    return this.config['kvm.qemu_img_binary'];
  }

  async load(local: string): Promise<VmDefinition> {
    const def = await this.store.definition(local);
    if (!def) throw driverError(D, 'NOT_FOUND', `no VM '${local}'`);
    return def;
  }

  /** The true state of a VM (see runtime.observe), asked over the held monitor when this process has it. */
  observe(def: VmDefinition, known?: VmRunState): Promise<Observed> {
    return observe(this.store, def, this.held, known);
  }

  /** Run fn on a live VM's QMP: the held connection when this process has it, else a connection of its own for fn. */
  async qmp<T>(run: Pick<VmRunState, 'runDir'>, fn: (q: QmpClient) => Promise<T>, opts: QmpConnectOptions = {}, query = false): Promise<T> {
    const h = run.runDir ? await this.held.get(run.runDir) : undefined;
    if (h) return fn(h.q);
    return withQmp(qmpPath(run, query), fn, opts);
  }

  /** The accelerator a start would use now, and why. */
  async accelFor(def: VmDefinition): Promise<{ accel: 'kvm' | 'tcg'; why: string }> {
    return resolveAccel(def.accel, await this.host(), this.config['kvm.enable_kvm']);
  }

  summary(def: VmDefinition): string {
    const disks = def.disks.length ? ` · ${def.disks.length} disk${def.disks.length > 1 ? 's' : ''}` : '';
    const boot = def.kernel ? ' · kernel' : def.iso ? ' · ISO' : '';
    return `${def.cpus} vCPU · ${def.memoryMB} MiB${disks}${boot}`;
  }

  async infoOf(def: VmDefinition, seen?: Observed, run?: VmRunState): Promise<WorkloadInfo> {
    const s = seen ?? (await this.observe(def));
    const r = run ?? s.run ?? (await this.store.runState(def.id));
    const alive = s.state === 'running' || s.state === 'paused';
    // A live VM shows what it runs with; a stopped one what its next start would use.
    const accel = alive ? r.accel : (await this.accelFor(def)).accel;
    return {
      id: workloadId(D, def.id),
      driver: D,
      name: def.name,
      state: s.state,
      managed: true,
      createdAt: def.createdAt,
      ...(alive && r.startedAt ? { startedAt: r.startedAt } : {}),
      ...(s.exit && !alive ? { exit: s.exit } : {}),
      summary: this.summary(def),
      ...(accel ? { runtime: accel } : {}),
    };
  }
}
