import { z } from 'zod';
import type { ConsoleTicket, MetricsSample } from './model.js';
import { absolutePathSchema, mustBe, workloadIdSchema } from './schemas.js';

/**
 * Inputs and DTOs of the contract parts the control room added (issue 6): live numbers for
 * the inventory's visible rows, saved VNC connections, and file uploads for image imports.
 */

// ---- The inventory's live numbers ----

/** How many rows one `metricsBatch` subscription may watch: a screenful, not the inventory. */
export const METRICS_BATCH_MAX = 200;

export const metricsBatchInput = z
  .object({
    ids: z.array(workloadIdSchema).max(METRICS_BATCH_MAX, `at most ${METRICS_BATCH_MAX} workloads`),
    /** How many past samples of each to send first (the sparkline's width). */
    history: z.number({ error: mustBe('a number') }).int('must be a whole number').min(0, 'must not be negative').max(600, 'must be at most 600').optional(),
  })
  .strict();

/** One batch: every watched workload that has new samples since the last batch. */
export type MetricsBatch = { id: string; samples: MetricsSample[] }[];

// ---- Saved VNC connections ----

// eslint-disable-next-line no-control-regex -- control characters are exactly what we reject
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A host name or an IP address; never a URL. */
export const hostSchema = z
  .string({ error: mustBe('a string') })
  .min(1, 'must not be empty')
  .max(253, 'is too long')
  .refine((v) => /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$/.test(v) || /^[0-9A-Fa-f:.]+$/.test(v.replace(/^\[|\]$/g, '')), 'must be a host name or an IP address');

export const portSchema = z.number({ error: mustBe('a number') }).int('must be a whole number').min(1, 'must be 1…65535').max(65535, 'must be 1…65535');

export const connectionIdSchema = z.string({ error: mustBe('a string') }).regex(/^[a-f0-9]{12}$/, 'must be a saved connection id');

export const vncSaveInput = z
  .object({
    /** Set to change a saved connection; absent to add one. */
    id: connectionIdSchema.optional(),
    label: z
      .string({ error: mustBe('a string') })
      .min(1, 'must not be empty')
      .max(80, 'must be at most 80 characters')
      .refine((v) => !CONTROL.test(v), 'must not contain control characters'),
    host: hostSchema.optional(),
    port: portSchema.optional(),
    /** A unix socket on the core's host, instead of host and port. */
    socket: absolutePathSchema.optional(),
    /** The VNC password. Absent on an update: keep the saved one; empty: none. */
    password: z
      .string({ error: mustBe('a string') })
      .max(256, 'is too long')
      .refine((v) => !CONTROL.test(v), 'must not contain control characters')
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.socket !== undefined && (s.host !== undefined || s.port !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['socket'], message: 'give a unix socket or a host and port, not both' });
    } else if (s.socket === undefined) {
      if (s.host === undefined) ctx.addIssue({ code: 'custom', path: ['host'], message: 'is required (or give a unix socket)' });
      if (s.port === undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: 'is required (5900 is display :0)' });
    }
  });
export type VncSaveInput = z.output<typeof vncSaveInput>;

/** A saved connection as the page sees it: whether it has a password, never the password. */
export interface VncConnection {
  id: string;
  label: string;
  host?: string;
  port?: number;
  socket?: string;
  hasPassword: boolean;
  createdAt: string;
}

export interface VncConnections {
  /** False where this process may not open consoles to arbitrary targets (the web mode without --vnc-allow). */
  enabled: boolean;
  /** Why not, or which targets are allowed. */
  reason?: string;
  allow?: string[];
  connections: VncConnection[];
}

/** `vnc.open`: the console ticket and, when one is saved, the password the page's VNC client answers with. */
export interface VncTicket extends ConsoleTicket {
  password?: string;
  label: string;
}

// ---- Uploads (a file from the admin's machine, for an image import) ----

/** Bytes per `uploads.write` call, before base64. */
export const UPLOAD_CHUNK = 512 * 1024;
export const UPLOAD_MAX = 64 * 1024 * 1024 * 1024;

export const uploadIdSchema = z.string({ error: mustBe('a string') }).regex(/^[a-f0-9]{24}$/, 'must be an upload id');

export const uploadBeginInput = z
  .object({
    /** The file's own name, kept for the log and the temp file's suffix. */
    name: z
      .string({ error: mustBe('a string') })
      .min(1, 'must not be empty')
      .max(255, 'is too long')
      .refine((v) => !CONTROL.test(v) && !v.includes('/'), 'must be a file name'),
    size: z.number({ error: mustBe('a number') }).int('must be a whole number').min(1, 'must not be empty').max(UPLOAD_MAX, 'is larger than NovaCron accepts (64 GiB)'),
  })
  .strict();

export const uploadWriteInput = z
  .object({
    upload: uploadIdSchema,
    offset: z.number({ error: mustBe('a number') }).int('must be a whole number').min(0, 'must not be negative'),
    /** base64 */
    data: z
      .string({ error: mustBe('a string') })
      .max(Math.ceil(UPLOAD_CHUNK / 3) * 4, 'is larger than one chunk')
      .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
  })
  .strict();

export const uploadIdInput = z.object({ upload: uploadIdSchema }).strict();
