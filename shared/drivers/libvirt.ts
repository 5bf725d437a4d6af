import { z } from 'zod';
import { kvmCreateSchema } from './kvm.js';

const { driver: _driver, incoming: _incoming, ...vmFields } = kvmCreateSchema.shape;

/**
 * What `create --driver libvirt` takes: the kvm driver's VM form, field for field (memory,
 * vCPUs, disks, ISO, kernel boot, network, machine, accelerator), so one form serves
 * both. Only `incoming` is left out: libvirt prepares a migration's destination itself.
 * The cross-field rules are the kvm schema's own, run on the same values.
 */
export const libvirtCreateSchema = z
  .object({ driver: z.literal('libvirt'), ...vmFields })
  .strict()
  .superRefine((s, ctx) => {
    const same = kvmCreateSchema.safeParse({ ...s, driver: 'kvm' });
    if (same.success) return;
    for (const issue of same.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });
export type LibvirtCreateSpec = z.infer<typeof libvirtCreateSchema>;
