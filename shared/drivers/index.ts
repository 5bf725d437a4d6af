import { z } from 'zod';
import { containerCreateSchema } from './container.js';
import { containerdCreateSchema, kataCreateSchema } from './containerd.js';
import { kvmCreateSchema } from './kvm.js';
import { processCreateSchema } from './process.js';

/**
 * Drivers whose create spec is not written yet accept any fields here, so that the
 * core can answer with the driver's own reason (UNAVAILABLE: not built yet) instead
 * of a confusing validation error. A driver that lands replaces its line.
 */
const pending = <D extends string>(driver: D) => z.looseObject({ driver: z.literal(driver) });

/** The create spec: one schema per driver, told apart by `driver`. */
export const createSpecSchema = z.discriminatedUnion(
  'driver',
  [
    processCreateSchema,
    kvmCreateSchema,
    containerCreateSchema,
    containerdCreateSchema,
    kataCreateSchema,
    pending('libvirt'),
  ],
  { error: 'must name a driver: kvm, container, containerd, kata-containers, process, libvirt' },
);
export type CreateSpec = z.infer<typeof createSpecSchema>;
