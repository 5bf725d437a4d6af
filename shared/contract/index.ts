import { z } from 'zod';
import type { DriverInfo } from '../capabilities.js';
import type { Config } from '../config.js';
import { configPatchSchema } from '../config.js';
import { createSpecSchema } from '../drivers/index.js';
import {
  connectionIdSchema,
  metricsBatchInput,
  uploadBeginInput,
  uploadIdInput,
  uploadWriteInput,
  vncSaveInput,
  type MetricsBatch,
  type VncConnection,
  type VncConnections,
  type VncTicket,
} from '../control-room.js';
import type {
  ConsoleTicket,
  CoreEvent,
  ImageInfo,
  LogLine,
  MetricsSample,
  SnapshotInfo,
  TerminalEvent,
  WorkloadDetail,
  WorkloadInfo,
} from '../model.js';
import { diagInput, eventLogInput, eventsListInput, type DiagnosticsResult, type EventRecord } from '../observability.js';
import {
  absolutePathSchema,
  driverIdSchema,
  memoryMbSchema,
  nameSchema,
  snapshotNameSchema,
  timeoutSecSchema,
  mustBe,
  workloadIdSchema,
} from '../schemas.js';
import type { EventOf, InputOf, MethodDef, OutputOf, ParsedInputOf, StreamDef } from './define.js';
import { method, stream } from './define.js';

const byId = z.object({ id: workloadIdSchema }).strict();
const nothing = z.object({}).strict();

/**
 * THE contract. Every method and stream the UI, the CLI and the headless server use is
 * declared here once; the Electron IPC handlers, the preload, the WebSocket transport and
 * every client are derived from this object.
 */
export const methods = {
  'drivers.list': method(
    z.object({ refresh: z.boolean().optional() }).strict(),
    'Every driver with its availability and capabilities',
  ).returns<DriverInfo[]>(),

  'workloads.list': method(
    z.object({ driver: driverIdSchema.optional() }).strict(),
    'Every workload of every available driver',
  ).returns<{ workloads: WorkloadInfo[]; errors: { driver: string; message: string; code: string }[] }>(),
  'workloads.create': method(createSpecSchema, 'Create a workload', { long: true }).returns<WorkloadInfo>(),
  'workloads.inspect': method(byId, 'Configuration and runtime details').returns<WorkloadDetail>(),
  'workloads.start': method(byId, 'Start a workload', { long: true }).returns<WorkloadInfo>(),
  'workloads.stop': method(
    z.object({ id: workloadIdSchema, force: z.boolean().optional(), timeoutSec: timeoutSecSchema.optional() }).strict(),
    'Stop gracefully, then forcibly after timeoutSec; force stops at once',
    { long: true },
  ).returns<WorkloadInfo>(),
  'workloads.restart': method(byId, 'Reboot or restart', { long: true }).returns<WorkloadInfo>(),
  'workloads.pause': method(byId, 'Freeze a running workload').returns<WorkloadInfo>(),
  'workloads.resume': method(byId, 'Thaw a paused workload').returns<WorkloadInfo>(),
  'workloads.delete': method(
    z.object({ id: workloadIdSchema, force: z.boolean().optional() }).strict(),
    'Delete; a running workload only with force',
    { long: true },
  ).returns<{ id: string }>(),
  'workloads.stats': method(byId, 'One metrics sample').returns<MetricsSample>(),
  'workloads.scale': method(
    z
      .object({
        id: workloadIdSchema,
        memoryMB: memoryMbSchema.optional(),
        cpus: z.number({ error: mustBe('a number') }).positive('must be positive').max(1024).optional(),
      })
      .strict(),
    'Change the resources of a workload',
  ).returns<WorkloadInfo>(),
  'workloads.migrate': method(
    z
      .object({
        id: workloadIdSchema,
        to: z.string({ error: mustBe('a string') }).min(1, 'must not be empty').max(1024, 'is too long'),
      })
      .strict(),
    'Move a workload to another engine or host',
    { long: true },
  ).returns<WorkloadInfo>(),
  'workloads.convert': method(
    z.object({ id: workloadIdSchema, to: driverIdSchema, name: nameSchema.optional() }).strict(),
    'Turn a stopped workload into one of another driver (a kvm VM into a libvirt domain and back), moving its disks',
    { long: true },
  ).returns<WorkloadInfo>(),

  'snapshots.list': method(byId, 'Snapshots of a workload').returns<SnapshotInfo[]>(),
  'snapshots.create': method(
    z.object({ id: workloadIdSchema, name: snapshotNameSchema }).strict(),
    'Take a snapshot',
    { long: true },
  ).returns<SnapshotInfo>(),
  'snapshots.revert': method(
    z.object({ id: workloadIdSchema, name: snapshotNameSchema }).strict(),
    'Return a workload to a snapshot',
    { long: true },
  ).returns<WorkloadInfo>(),
  'snapshots.delete': method(
    z.object({ id: workloadIdSchema, name: snapshotNameSchema }).strict(),
    'Delete a snapshot',
  ).returns<{ name: string }>(),

  'images.list': method(z.object({ driver: driverIdSchema }).strict(), 'Images a driver holds').returns<ImageInfo[]>(),
  'images.import': method(
    z
      .object({
        driver: driverIdSchema,
        file: absolutePathSchema,
        name: z.string({ error: mustBe('a string') }).min(1, 'must not be empty').max(255, 'is too long'),
      })
      .strict(),
    'Import a rootfs tarball or an image archive',
    { long: true },
  ).returns<ImageInfo>(),
  'images.pull': method(
    z.object({ driver: driverIdSchema, ref: z.string({ error: mustBe('a string') }).min(1, 'must not be empty').max(255, 'is too long') }).strict(),
    'Pull an image from a registry, where one is reachable',
    { long: true },
  ).returns<ImageInfo>(),
  'images.delete': method(
    z.object({ driver: driverIdSchema, ref: z.string().min(1, 'must not be empty').max(255) }).strict(),
    'Delete an image',
  ).returns<{ ref: string }>(),

  'console.open': method(byId, 'A one-time ticket (30 s) for a WebSocket to the VNC console of a workload').returns<ConsoleTicket>(),

  'terminal.input': method(
    z.object({ session: z.string().min(1).max(128), data: z.string().max(1024 * 1024, 'is too long') }).strict(),
    'Type into a terminal session',
  ).returns<null>(),
  'terminal.resize': method(
    z
      .object({
        session: z.string().min(1).max(128),
        cols: z.number().int().min(1).max(1000),
        rows: z.number().int().min(1).max(1000),
      })
      .strict(),
    'Resize a terminal session',
  ).returns<null>(),

  'operations.cancel': method(
    z.object({ op: z.string().min(1).max(128) }).strict(),
    'Cancel a long operation',
  ).returns<{ cancelled: boolean }>(),

  'config.get': method(nothing, 'The effective configuration and where each value came from').returns<{
    config: Config;
    file: string;
    sources: Record<string, 'default' | 'file' | 'env'>;
  }>(),
  'config.set': method(configPatchSchema, 'Change keys of the config file').returns<{ config: Config; file: string }>(),

  // Observability (issue 10): the durable event log and the diagnostics bundle.
  'events.list': method(eventsListInput, 'The event log, filtered: the newest `limit` records (200 by default), oldest first').returns<{
    events: EventRecord[];
    /** Older records that match may exist beyond the limit. */
    more: boolean;
  }>(),
  'diag.create': method(diagInput, 'Write a diagnostics bundle (tar.gz) and say where', { long: true }).returns<DiagnosticsResult>(),

  // The control room (issue 6): consoles to VNC servers NovaCron does not run, and uploads for image imports.
  'vnc.list': method(nothing, 'Saved VNC connections, and whether this process may open them').returns<VncConnections>(),
  'vnc.save': method(vncSaveInput, 'Add or change a saved VNC connection').returns<VncConnection>(),
  'vnc.delete': method(z.object({ id: connectionIdSchema }).strict(), 'Forget a saved VNC connection').returns<{ id: string }>(),
  'vnc.open': method(z.object({ id: connectionIdSchema }).strict(), 'A one-time console ticket (30 s) to a saved VNC connection, through the core').returns<VncTicket>(),
  'uploads.begin': method(uploadBeginInput, 'Start sending a file to the core (for an image import)').returns<{ upload: string }>(),
  'uploads.write': method(uploadWriteInput, 'The next chunk of an upload, base64, at its offset').returns<{ received: number }>(),
  'uploads.finish': method(uploadIdInput, 'Close a complete upload: its path on the core\'s host').returns<{ file: string }>(),
  'uploads.discard': method(uploadIdInput, 'Delete an upload').returns<null>(),
} satisfies Record<string, MethodDef>;

export const streams = {
  events: stream(nothing, 'Workload changes, progress and notices, pushed').emits<CoreEvent>(),
  metrics: stream(byId, 'Live metrics: the kept history first, then one sample a second').emits<MetricsSample[]>(),
  logs: stream(
    z
      .object({
        id: workloadIdSchema,
        follow: z.boolean().optional(),
        tail: z.number().int().min(0).max(100_000).optional(),
      })
      .strict(),
    'Log lines, following when asked',
  ).emits<LogLine>(),
  terminal: stream(
    z
      .object({
        id: workloadIdSchema,
        kind: z.enum(['exec', 'serial']).optional(),
        cols: z.number().int().min(1).max(1000).optional(),
        rows: z.number().int().min(1).max(1000).optional(),
        command: z.array(z.string().max(4096)).max(256).optional(),
      })
      .strict(),
    'A TTY: output as events; type and resize with terminal.input / terminal.resize',
  ).emits<TerminalEvent>(),
  metricsBatch: stream(
    metricsBatchInput,
    'Live numbers of many workloads (the inventory\'s visible rows): their recent history, then one batch a second',
  ).emits<MetricsBatch>(),
  eventLog: stream(eventLogInput, 'The event log as every NovaCron process appends to it: the last `tail` records, then each new one').emits<EventRecord[]>(),
} satisfies Record<string, StreamDef>;

export type Methods = typeof methods;
export type Streams = typeof streams;
export type MethodName = keyof Methods;
export type StreamName = keyof Streams;
export type MethodInput<M extends MethodName> = InputOf<Methods[M]>;
export type MethodParsedInput<M extends MethodName> = ParsedInputOf<Methods[M]>;
export type MethodOutput<M extends MethodName> = OutputOf<Methods[M]>;
export type StreamInput<S extends StreamName> = InputOf<Streams[S]>;
export type StreamParsedInput<S extends StreamName> = ParsedInputOf<Streams[S]>;
export type StreamEvent<S extends StreamName> = EventOf<Streams[S]>;

export const METHOD_NAMES = Object.keys(methods) as MethodName[];
export const STREAM_NAMES = Object.keys(streams) as StreamName[];

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.hasOwn(methods, name);
}
export function isStreamName(name: unknown): name is StreamName {
  return typeof name === 'string' && Object.hasOwn(streams, name);
}
