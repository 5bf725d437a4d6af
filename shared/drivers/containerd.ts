import { z } from 'zod';
import { absolutePathSchema, argSchema, envSchema, memoryMbSchema, mustBe, nameSchema } from '../schemas.js';

/**
 * The sandbox a containerd workload runs in: runc (plain Linux namespaces), runsc
 * (gVisor: a user-space kernel, through runc's shim) or kata (a lightweight VM, through
 * Kata's own shim). The core refuses one that detection did not find on the host.
 */
export const SANDBOX_RUNTIMES = ['runc', 'runsc', 'kata'] as const;
export type SandboxRuntime = (typeof SANDBOX_RUNTIMES)[number];

// eslint-disable-next-line no-control-regex -- control characters are exactly what we reject
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why an image reference is refused, or undefined: registry[:port]/path[:tag][@digest], as docker spells them. */
export function imageRefProblem(ref: string): string | undefined {
  if (ref.length === 0) return 'must not be empty';
  if (ref.length > 255) return 'must be at most 255 characters';
  if (CONTROL.test(ref) || /\s/.test(ref)) return 'must not contain spaces or control characters';
  if (ref.includes('..') || ref.includes('//')) return "must not contain '..' or '//'";
  const re = /^[a-z0-9][a-z0-9._-]*(?::[0-9]+)?(?:\/[a-z0-9][a-z0-9._-]*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
  if (!re.test(ref)) return 'must look like name[:tag], e.g. busybox:latest or registry.local/team/app:1.0 (lowercase path)';
  return undefined;
}

export const imageRefSchema = z.string({ error: mustBe('a string') }).superRefine((v, ctx) => {
  const p = imageRefProblem(v);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

/** A host directory or file bound into the container. */
export const bindMountSchema = z
  .object({
    source: absolutePathSchema,
    target: absolutePathSchema.refine((v) => v !== '/', 'must not be the root directory'),
    readOnly: z.boolean({ error: mustBe('true or false') }).optional(),
  })
  .strict();
export type BindMount = z.infer<typeof bindMountSchema>;

/** Labels NovaCron keeps for itself live under this prefix; an admin's may not. */
export const RESERVED_LABEL_PREFIX = 'novacron.io/';

export const labelsSchema = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/, 'label keys hold letters, digits, . _ / - (at most 128)')
      .refine((k) => !k.startsWith(RESERVED_LABEL_PREFIX), `label keys must not start with ${RESERVED_LABEL_PREFIX}`),
    z
      .string({ error: mustBe('a string') })
      .max(4096, 'is too long')
      .refine((v) => !CONTROL.test(v), 'must not contain control characters'),
  )
  .refine((r) => Object.keys(r).length <= 64, 'at most 64 labels');

function containerSpec<D extends 'containerd' | 'kata-containers'>(driver: D) {
  return z
    .object({
      driver: z.literal(driver),
      name: nameSchema,
      /** An image already in NovaCron's containerd namespace (see `images import`). */
      image: imageRefSchema,
      /** The program to run, inside the image; the image's entrypoint and command when left out. */
      cmd: argSchema.min(1, 'must not be empty').optional(),
      args: z.array(argSchema).max(4096, 'has too many arguments').default([]),
      env: envSchema.default({}),
      mounts: z.array(bindMountSchema).max(64, 'at most 64 mounts').default([]),
      memoryMB: memoryMbSchema.optional(),
      /** CPU quota in cores (0.5 = half a core). */
      cpus: z.number({ error: mustBe('a number') }).positive('must be positive').max(1024, 'is more than any host has').optional(),
      labels: labelsSchema.default({}),
      /** Defaults to runc for containerd and kata for kata-containers. */
      runtime: z.enum(SANDBOX_RUNTIMES, { error: `must be one of ${SANDBOX_RUNTIMES.join(', ')}` }).optional(),
    })
    .strict();
}

/** What `create --driver containerd` takes. */
export const containerdCreateSchema = containerSpec('containerd');
export type ContainerdCreateSpec = z.infer<typeof containerdCreateSchema>;

/** `create --driver kata-containers`: the same spec; the driver defaults the runtime to kata. */
export const kataCreateSchema = containerSpec('kata-containers');
export type KataCreateSpec = z.infer<typeof kataCreateSchema>;
