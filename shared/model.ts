import type { DriverId } from './ids.js';

export const WORKLOAD_STATES = ['creating', 'running', 'paused', 'stopped', 'exited', 'crashed', 'unknown'] as const;
export type WorkloadState = (typeof WORKLOAD_STATES)[number];

/** How a workload ended when it was not stopped by us. */
export interface ExitInfo {
  code?: number;
  signal?: string;
  /** Human words: "killed by SIGKILL", "exit status unknown: NovaCron was not running when it ended". */
  reason: string;
  at?: string;
}

/** One row of the inventory: small, serialisable, the same for every driver. */
export interface WorkloadInfo {
  id: string;
  driver: DriverId;
  name: string;
  state: WorkloadState;
  /** false for things the engine runs that NovaCron did not create (a container from `docker run`). */
  managed: boolean;
  createdAt?: string;
  startedAt?: string;
  exit?: ExitInfo;
  /** A one-line description: the command, the image, "2 vCPU · 1024 MiB". */
  summary: string;
  /** Set when a sandboxed runtime or an accelerator is in play, e.g. "runsc", "kvm", "tcg". */
  runtime?: string;
}

/** `inspect`: the row, the configuration it was created with, and what it is running as. */
export interface WorkloadDetail {
  info: WorkloadInfo;
  config: Record<string, unknown>;
  /** pid, sockets, log paths…: flat and printable. */
  runtime: Record<string, string | number | boolean | null>;
}

/** One metrics sample. Counters are cumulative; the UI derives rates. */
export interface MetricsSample {
  ts: number;
  /** Percent of one CPU core (200 = two cores busy), as `docker stats` reports it. */
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes?: number;
  diskReadBytes?: number;
  diskWriteBytes?: number;
  netRxBytes?: number;
  netTxBytes?: number;
  /** Which source produced it: "procfs", "cgroup v1", "engine API"… */
  source?: string;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
  ts?: string;
}

export interface SnapshotInfo {
  name: string;
  createdAt?: string;
  sizeBytes?: number;
  /** "with RAM", "disk only", "image", … */
  kind?: string;
}

export interface ImageInfo {
  id: string;
  driver: DriverId;
  refs: string[];
  sizeBytes?: number;
  createdAt?: string;
}

export interface Progress {
  op: string;
  workloadId?: string;
  label: string;
  done: number;
  total?: number;
  unit?: 'bytes' | 'percent' | 'steps';
}

/** The core's event stream: what changed, pushed, never polled per row. */
export type CoreEvent =
  | { type: 'workload'; info: WorkloadInfo }
  | { type: 'workload-removed'; id: string }
  | { type: 'progress'; progress: Progress }
  | { type: 'notice'; level: 'info' | 'warning' | 'error'; message: string; workloadId?: string; at: string };

/** `console.open`: where the page's VNC client connects, with a one-time ticket in the query. */
export interface ConsoleTicket {
  /** Relative to the headless server's origin: /console?ticket=… */
  path: string;
  /** Absolute ws:// URL of the desktop's loopback proxy, when the caller is not the headless page. */
  url?: string;
  expiresAt: string;
}

export interface TerminalEvent {
  type: 'ready' | 'data' | 'exit';
  /** Set on ready: the session id the input and resize methods take. */
  session?: string;
  data?: string;
  code?: number;
}
