import type { DriverId } from './ids.js';

/**
 * Everything a driver may be able to do. The matrix screen, the CLI and the buttons all
 * read this list; none of them branches on a driver's id.
 */
export const CAPABILITIES = [
  'create',
  'start',
  'stop',
  'restart',
  'pause',
  'delete',
  'metrics',
  'logs',
  'terminal',
  'console',
  'snapshot',
  'migrate',
  'scale',
  'limits',
  'images',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const CAPABILITY_LABELS: Record<Capability, string> = {
  create: 'Create',
  start: 'Start',
  stop: 'Stop',
  restart: 'Reboot / restart',
  pause: 'Pause / resume',
  delete: 'Delete',
  metrics: 'Live metrics',
  logs: 'Logs',
  terminal: 'Terminal',
  console: 'VNC console',
  snapshot: 'Snapshots',
  migrate: 'Migration',
  scale: 'Resource scaling',
  limits: 'CPU / memory limits',
  images: 'Images',
};

export interface CapabilityState {
  available: boolean;
  /** Why it is missing; set whenever available is false. */
  reason?: string;
}

export interface DriverInfo {
  id: DriverId;
  name: string;
  available: boolean;
  version?: string;
  /** Why the driver as a whole cannot be used here. */
  reason?: string;
  capabilities: Record<Capability, CapabilityState>;
  /** Facts detection found worth showing: binary paths, socket, accelerator, runtime. */
  details?: Record<string, string>;
}
