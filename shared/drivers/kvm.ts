import { z } from 'zod';
import { absolutePathSchema, memoryMbSchema, nameSchema, mustBe } from '../schemas.js';

/** One disk of a VM: a new qcow2 of a size, an existing image used in place, or a linked clone of a base image. */
export const kvmDiskSchema = z.union([
  z.object({ sizeGB: z.number({ error: mustBe('a number') }).positive('must be positive').max(64 * 1024, 'is larger than any disk') }).strict(),
  z.object({ path: absolutePathSchema }).strict(),
  z.object({ base: absolutePathSchema }).strict(),
]);
export type KvmDiskSpec = z.infer<typeof kvmDiskSchema>;

export const portForwardSchema = z
  .object({
    hostPort: z.number({ error: mustBe('a number') }).int('must be a whole number').min(1, 'must be 1…65535').max(65535, 'must be 1…65535'),
    guestPort: z.number({ error: mustBe('a number') }).int('must be a whole number').min(1, 'must be 1…65535').max(65535, 'must be 1…65535'),
    protocol: z.enum(['tcp', 'udp']).default('tcp'),
    /** Loopback unless the admin opens it up: a forwarded guest port is reachable by whoever can reach this address. */
    hostAddress: z.ipv4({ error: 'must be an IPv4 address' }).default('127.0.0.1'),
  })
  .strict();
export type PortForward = z.infer<typeof portForwardSchema>;

export const ACCELS = ['auto', 'kvm', 'tcg'] as const;
export type Accel = (typeof ACCELS)[number];

/** `tcp:HOST:PORT` of a migration stream. */
export const migrationUriSchema = z
  .string({ error: mustBe('a string') })
  .regex(/^tcp:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must look like tcp:HOST:PORT')
  .refine((v) => {
    const port = Number(v.slice(v.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'port must be 1…65535');

/** What `create --driver kvm` takes. Host-dependent bounds (memory, disk space, files) are checked by the core. */
export const kvmCreateSchema = z
  .object({
    driver: z.literal('kvm'),
    name: nameSchema,
    memoryMB: memoryMbSchema.refine((v) => v >= 16, 'must be at least 16 MiB'),
    cpus: z.number({ error: mustBe('a number') }).int('must be a whole number').min(1, 'must be at least 1').max(255, 'must be at most 255').default(1),
    disks: z.array(kvmDiskSchema).max(8, 'at most 8 disks').default([]),
    iso: absolutePathSchema.optional(),
    kernel: absolutePathSchema.optional(),
    initrd: absolutePathSchema.optional(),
    append: z
      .string({ error: mustBe('a string') })
      .max(4096, 'is too long')
      // eslint-disable-next-line no-control-regex -- control characters are exactly what we reject
      .refine((v) => !/[\u0000-\u001f]/.test(v), 'must not contain control characters')
      .optional(),
    network: z.enum(['user', 'none']).default('user'),
    portForwards: z.array(portForwardSchema).max(64, 'at most 64 port forwards').default([]),
    machine: z
      .string({ error: mustBe('a string') })
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a QEMU machine type such as pc or q35')
      .default('pc'),
    accel: z.enum(ACCELS, { error: 'must be auto, kvm or tcg' }).default('auto'),
    /** Prepare this VM as the destination of a live migration listening on tcp:HOST:PORT; it starts at once and waits. */
    incoming: migrationUriSchema.optional(),
    /** Start it as soon as it is made, in the same operation; one that cannot start is not kept (as virt-install does). */
    start: z.boolean({ error: mustBe('true or false') }).default(false),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.initrd !== undefined && s.kernel === undefined) ctx.addIssue({ code: 'custom', path: ['initrd'], message: 'needs a kernel' });
    if (s.append !== undefined && s.kernel === undefined) ctx.addIssue({ code: 'custom', path: ['append'], message: 'needs a kernel' });
    if (s.disks.length === 0 && s.iso === undefined && s.kernel === undefined) {
      ctx.addIssue({ code: 'custom', path: ['disks'], message: 'give a disk, an ISO or a kernel to boot from' });
    }
    const seen = new Set<string>();
    s.portForwards.forEach((p, i) => {
      const key = `${p.protocol}:${p.hostAddress}:${p.hostPort}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['portForwards', i], message: `host port ${p.hostPort}/${p.protocol} is forwarded twice` });
      seen.add(key);
    });
    if (s.network === 'none' && s.portForwards.length) ctx.addIssue({ code: 'custom', path: ['portForwards'], message: 'need a network' });
    if (s.start && s.incoming !== undefined) ctx.addIssue({ code: 'custom', path: ['start'], message: 'is implied by incoming (the VM starts at once, waiting for the stream)' });
  });
export type KvmCreateSpec = z.infer<typeof kvmCreateSchema>;
