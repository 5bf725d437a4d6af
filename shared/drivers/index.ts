import { z } from 'zod';
import { containerCreateSchema } from './container.js';
import { containerdCreateSchema, kataCreateSchema } from './containerd.js';
import { kvmCreateSchema } from './kvm.js';
import { libvirtCreateSchema } from './libvirt.js';
import { processCreateSchema } from './process.js';

/** The create spec: one schema per driver, told apart by `driver`. */
export const createSpecSchema = z.discriminatedUnion(
  'driver',
  [
    processCreateSchema,
    kvmCreateSchema,
    containerCreateSchema,
    containerdCreateSchema,
    kataCreateSchema,
    libvirtCreateSchema,
  ],
  { error: 'must name a driver: kvm, container, containerd, kata-containers, process, libvirt' },
);
export type CreateSpec = z.infer<typeof createSpecSchema>;
