import type { Capability } from '../../../shared/capabilities.js';
import type { CreateSpec } from '../../../shared/drivers/index.js';
import type { DriverId } from '../../../shared/ids.js';
import type {
  ImageInfo,
  LogLine,
  MetricsSample,
  Progress,
  SnapshotInfo,
  WorkloadDetail,
  WorkloadInfo,
} from '../../../shared/model.js';
import type { Config } from '../../../shared/config.js';
import type { Disposable } from '../base/lifecycle.js';
import type { Paths } from '../base/paths.js';

/**
 * The driver interface, after the seed's VMDriver: a few required methods and many
 * optional ones. Capabilities are derived from which optional parts a driver implements
 * AND what its detection found on the host; nothing else declares them.
 */

/** Who asked: written to the event log and shown in notices. */
export type Origin = 'desktop' | 'cli' | 'headless' | 'test';

export interface OpContext {
  signal: AbortSignal;
  origin: Origin;
  /** The connection that called (a window, a WebSocket, an in-process client): what a terminal session is bound to. */
  client?: string;
  /** Report progress of a long operation; cheap to call often. */
  progress(p: Omit<Progress, 'op'>): void;
}

export interface Detection {
  available: boolean;
  version?: string;
  /** Why the driver cannot be used at all. */
  reason?: string;
  /**
   * Unavailable because its software is not installed on this host (Kata on Debian), not
   * because something is down: the matrix says why, but the workload list does not
   * report it as an error every time.
   */
  absent?: boolean;
  /** Capabilities the driver implements but the host does not allow, with why. */
  unsupported?: Partial<Record<Capability, string>>;
  details?: Record<string, string>;
}

/** Where a console's VNC stream comes from. The core's proxy connects to it; the page never does. */
export type ConsoleEndpoint = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** A TTY the core holds: bytes out through onData, in through write. */
export interface TerminalSession extends Disposable {
  onData(listener: (chunk: string) => void): Disposable;
  onExit(listener: (code?: number) => void): Disposable;
  write(data: string): void;
  resize(cols: number, rows: number): void;
}

export interface LogSink {
  line(l: LogLine): void;
  end(): void;
  error(e: unknown): void;
}

export interface StopOptions {
  force: boolean;
  timeoutSec: number;
}

export interface Driver {
  readonly id: DriverId;
  readonly name: string;

  /** What the host allows. Called once and cached by the manager; must not throw. */
  detect(signal: AbortSignal): Promise<Detection>;

  list(signal: AbortSignal): Promise<WorkloadInfo[]>;
  /** The local part of the id (after "driver:") is what every other method takes. */
  info(local: string, signal: AbortSignal): Promise<WorkloadInfo>;
  inspect(local: string, signal: AbortSignal): Promise<WorkloadDetail>;

  create?(spec: CreateSpec, ctx: OpContext): Promise<WorkloadInfo>;
  /**
   * Set when start and delete refuse an active (running or paused) workload themselves, as
   * CONFLICT naming it: start always, delete unless forced; decided on the engine's own
   * refusal or on a read under the workload's lock. The router then does not read the
   * workload first, a round trip per call that decided on a state which could change
   * before the call anyway.
   */
  readonly refusesActive?: boolean;
  start?(local: string, ctx: OpContext): Promise<WorkloadInfo>;
  stop?(local: string, opts: StopOptions, ctx: OpContext): Promise<WorkloadInfo>;
  delete?(local: string, opts: { force: boolean }, ctx: OpContext): Promise<void>;
  restart?(local: string, ctx: OpContext): Promise<WorkloadInfo>;
  pause?(local: string, ctx: OpContext): Promise<WorkloadInfo>;
  resume?(local: string, ctx: OpContext): Promise<WorkloadInfo>;

  /** One sample. cpuPercent may be left 0 when cpuNs is given: the metrics service derives it. */
  metrics?(local: string, signal: AbortSignal): Promise<RawSample>;
  /**
   * Optional push source for engines that stream samples themselves (Docker's stats
   * stream, say). When present, the metrics service opens ONE per watched workload,
   * shares it between watchers, and disposes it when nobody watches; otherwise it calls
   * metrics() once a second. It may return undefined for a workload it has a cheaper
   * source for (the container driver reads cgroup files of a local engine): the service
   * then polls metrics() for that one.
   */
  watchMetrics?(local: string, onSample: (s: RawSample) => void, onError: (e: unknown) => void): Disposable | undefined;
  logs?(local: string, opts: { follow: boolean; tail?: number }, sink: LogSink): Disposable;
  terminal?(local: string, opts: { kind?: 'exec' | 'serial'; cols: number; rows: number; command?: string[] }, signal: AbortSignal): Promise<TerminalSession>;
  console?(local: string, signal: AbortSignal): Promise<ConsoleEndpoint>;
  snapshots?: {
    list(local: string, signal: AbortSignal): Promise<SnapshotInfo[]>;
    create(local: string, name: string, ctx: OpContext): Promise<SnapshotInfo>;
    revert(local: string, name: string, ctx: OpContext): Promise<WorkloadInfo>;
    delete(local: string, name: string, ctx: OpContext): Promise<void>;
  };
  migrate?(local: string, to: string, ctx: OpContext): Promise<WorkloadInfo>;
  scale?(local: string, resources: { memoryMB?: number; cpus?: number }, ctx: OpContext): Promise<WorkloadInfo>;
  /** Set when create honours memory / CPU limits. */
  readonly limits?: { memory: boolean; cpu: boolean };
  images?: {
    list(signal: AbortSignal): Promise<ImageInfo[]>;
    import(file: string, name: string, ctx: OpContext): Promise<ImageInfo>;
    /** From a registry, reporting progress; drivers without registries leave it out. */
    pull?(ref: string, ctx: OpContext): Promise<ImageInfo>;
    delete(ref: string, ctx: OpContext): Promise<void>;
  };
  /** Conversions this driver carries out, both ways where it knows both formats (libvirt: kvm VM ⇄ domain). */
  readonly converts?: readonly { from: DriverId; to: DriverId }[];
  /**
   * Turn a stopped workload (a full id, of the `from` driver of one of `converts`) into one
   * of `to`, moving its disks; the source is gone afterwards. Returns the new workload's id.
   */
  convert?(sourceId: string, to: DriverId, opts: { name?: string }, ctx: OpContext): Promise<string>;
  /**
   * State changes the driver learns of by itself (a process died, an engine event). The
   * manager subscribes while someone watches events, and disposes when nobody does.
   */
  watch?(emit: (change: WorkloadChange) => void): Disposable;
  /** Why a capability it does not implement is missing, in words the matrix shows. */
  readonly notImplemented?: Partial<Record<Capability, string>>;
  /**
   * Wait for what operations that already answered left running in the background (a
   * containerd lease's release): a process about to exit (the CLI) calls it first.
   */
  settle?(): Promise<void>;
  dispose?(): void;
}

export type WorkloadChange =
  | { type: 'upsert'; info: WorkloadInfo }
  | { type: 'removed'; id: string }
  | { type: 'notice'; level: 'info' | 'warning' | 'error'; message: string; workloadId?: string };

export interface RawSample extends Omit<MetricsSample, 'cpuPercent'> {
  cpuPercent?: number;
  /** Cumulative CPU time used, in nanoseconds. */
  cpuNs?: number;
}

/** What a driver factory is handed: the config and where to keep things. Nothing global. */
export interface DriverEnv {
  config: Config;
  paths: Paths;
}

export type DriverFactory = (env: DriverEnv) => Driver | Promise<Driver>;
