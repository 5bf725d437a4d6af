import type { Capability, DriverInfo } from '../../../shared/capabilities.js';
import type { DriverId } from '../../../shared/ids.js';
import { NovaError } from '../base/errors.js';
import { deriveCapabilities } from './capabilities.js';
import type { Detection, Driver, DriverEnv } from './driver.js';
import type { DriverEntry } from './registry.js';
import { DRIVER_ENTRIES, NOT_BUILT } from './registry.js';

/** How long a detection is trusted: engines come and go, but not every millisecond. */
const DETECTION_TTL_MS = 5_000;

/**
 * The seed's driver factory: instantiates drivers lazily, caches them, and knows what
 * each can do on this host.
 */
export class DriverManager {
  private readonly instances = new Map<DriverId, Driver>();
  private readonly loading = new Map<DriverId, Promise<Driver>>();
  private readonly detections = new Map<DriverId, { at: number; result: Promise<Detection>; value?: Detection }>();
  private readonly entries: Map<DriverId, DriverEntry>;
  /** Capabilities a detection (the object, replaced by each new one) was found to allow, and the driver then. */
  private readonly granted = new WeakMap<Detection, Map<Capability, Driver>>();

  constructor(
    private env: DriverEnv,
    entries: readonly DriverEntry[] = DRIVER_ENTRIES,
  ) {
    this.entries = new Map(entries.map((e) => [e.id, e]));
  }

  get ids(): DriverId[] {
    return [...this.entries.keys()];
  }

  /** The cached instance, or undefined before first use: the hot path, no promise. */
  cached(id: DriverId): Driver | undefined {
    return this.instances.get(id);
  }

  /** The driver instance; UNAVAILABLE when it is not built. */
  async get(id: DriverId): Promise<Driver> {
    const hit = this.instances.get(id);
    if (hit) return hit;
    const entry = this.entries.get(id);
    if (!entry) throw new NovaError('NOT_FOUND', `no driver named '${id}'`);
    if (!entry.load) throw new NovaError('UNAVAILABLE', `${id}: ${NOT_BUILT}`, { driver: id });
    let p = this.loading.get(id);
    if (!p) {
      const load = entry.load;
      p = (async () => {
        const factory = await load();
        const d = await factory(this.env);
        this.instances.set(id, d);
        return d;
      })();
      this.loading.set(id, p);
      p.catch(() => this.loading.delete(id));
    }
    return p;
  }

  detect(id: DriverId, refresh = false): Promise<Detection> {
    const hit = this.detections.get(id);
    if (hit && !refresh && Date.now() - hit.at < DETECTION_TTL_MS) return hit.result;
    const result = this.runDetection(id);
    const entry: { at: number; result: Promise<Detection>; value?: Detection } = { at: Date.now(), result };
    void result.then((v) => (entry.value = v)); // runDetection answers, never throws
    this.detections.set(id, entry);
    return result;
  }

  /**
   * What an operation checks its driver against: the last detection, also past its TTL when
   * it found the driver available, with a fresh one started behind it for the next asker. So
   * no operation waits for the periodic re-detection (docker's /version and /info: several ms
   * on a busy engine, paid every 5 s by whichever operation came first). An engine that went
   * away meanwhile fails the operation's own call (UNAVAILABLE); one found unavailable is
   * always asked afresh, so an engine that came back is used at once.
   */
  private detectForOp(id: DriverId): Promise<Detection> {
    const hit = this.detections.get(id);
    if (hit?.value?.available && Date.now() - hit.at >= DETECTION_TTL_MS) {
      void this.detect(id);
      return Promise.resolve(hit.value);
    }
    return this.detect(id);
  }

  private async runDetection(id: DriverId): Promise<Detection> {
    const entry = this.entries.get(id);
    if (!entry?.load) return { available: false, reason: NOT_BUILT };
    try {
      const d = await this.get(id);
      return await d.detect(AbortSignal.timeout(10_000));
    } catch (e) {
      return { available: false, reason: `detection failed: ${(e as Error).message}` };
    }
  }

  async info(id: DriverId, refresh = false): Promise<DriverInfo> {
    return this.infoFrom(id, () => this.detect(id, refresh));
  }

  private async infoFrom(id: DriverId, detect: () => Promise<Detection>): Promise<DriverInfo> {
    const entry = this.entries.get(id);
    if (!entry) throw new NovaError('NOT_FOUND', `no driver named '${id}'`);
    const detection = await detect();
    const driver = entry.load ? await this.get(id).catch(() => undefined) : undefined;
    return {
      id,
      name: entry.name,
      available: detection.available,
      ...(detection.version ? { version: detection.version } : {}),
      ...(detection.reason ? { reason: detection.reason } : {}),
      ...(detection.details ? { details: detection.details } : {}),
      capabilities: deriveCapabilities(driver, detection, detection.reason ?? NOT_BUILT),
    };
  }

  infoAll(refresh = false): Promise<DriverInfo[]> {
    return Promise.all(this.ids.map((id) => this.info(id, refresh)));
  }

  /**
   * The driver, when it can do `cap` here; otherwise the error an admin needs:
   * UNAVAILABLE when the driver cannot run, NOT_SUPPORTED when it cannot do this.
   */
  async require(id: DriverId, cap: Capability): Promise<Driver> {
    // Every operation asks: while the detection that allowed `cap` is the latest one, the answer stands
    // without deriving the driver's whole capability matrix again.
    const hit = this.detections.get(id);
    const granted = hit?.value && this.granted.get(hit.value)?.get(cap);
    if (hit && granted && granted === this.instances.get(id)) {
      if (Date.now() - hit.at >= DETECTION_TTL_MS) void this.detect(id);
      return granted;
    }
    let used: Detection | undefined;
    const info = await this.infoFrom(id, async () => (used = await this.detectForOp(id)));
    if (!info.available) throw new NovaError('UNAVAILABLE', `${id}: ${info.reason ?? 'unavailable'}`, { driver: id });
    const state = info.capabilities[cap];
    if (!state.available) throw new NovaError('NOT_SUPPORTED', `${id}: ${cap}: ${state.reason ?? 'not supported'}`, { driver: id });
    const driver = await this.get(id);
    if (used && used === this.detections.get(id)?.value) this.granted.set(used, (this.granted.get(used) ?? new Map<Capability, Driver>()).set(cap, driver));
    return driver;
  }

  /** Drivers that work here, for listing; the others are reported, not silently skipped. */
  async available(): Promise<{ drivers: Driver[]; unavailable: { id: DriverId; reason: string; absent?: boolean }[] }> {
    const drivers: Driver[] = [];
    const unavailable: { id: DriverId; reason: string; absent?: boolean }[] = [];
    await Promise.all(
      this.ids.map(async (id) => {
        const det = await this.detect(id);
        if (det.available) drivers.push(await this.get(id));
        else unavailable.push({ id, reason: det.reason ?? 'unavailable', ...(det.absent ? { absent: true } : {}) });
      }),
    );
    const order = this.ids;
    drivers.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
    return { drivers, unavailable };
  }

  /** New configuration: drivers are rebuilt from it on next use. */
  reconfigure(env: DriverEnv): void {
    this.dispose();
    this.env = env;
  }

  /** See Driver.settle: every driver made so far, at once. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.instances.values()].map((d) => d.settle?.() ?? Promise.resolve()));
  }

  dispose(): void {
    for (const d of this.instances.values()) d.dispose?.();
    this.instances.clear();
    this.loading.clear();
    this.detections.clear();
  }
}
