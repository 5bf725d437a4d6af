import { z } from 'zod';
import { absolutePathSchema, argSchema, envSchema, memoryMbSchema, nameSchema, mustBe } from '../schemas.js';

/** What `create --driver process` takes. */
export const processCreateSchema = z
  .object({
    driver: z.literal('process'),
    name: nameSchema,
    /** A program: an absolute path, or a bare name looked up on PATH by the core. */
    cmd: z
      .string({ error: mustBe('a string') })
      .min(1, 'is required')
      .max(4096, 'is too long')
      .refine((v) => !v.includes('\u0000'), 'must not contain NUL'),
    args: z.array(argSchema).max(4096, 'has too many arguments').default([]),
    env: envSchema.default({}),
    cwd: absolutePathSchema.optional(),
    /** cgroup limits, applied where the host lets us. */
    memoryMB: memoryMbSchema.optional(),
    /** Percent of one core the process may use (50 = half a core). */
    cpuPercent: z.number({ error: mustBe('a number') }).int().min(1, 'must be at least 1').max(100 * 1024).optional(),
  })
  .strict();
export type ProcessCreateSpec = z.infer<typeof processCreateSchema>;
