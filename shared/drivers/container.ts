import { z } from 'zod';
import { absolutePathSchema, argSchema, envSchema, memoryMbSchema, nameSchema, mustBe } from '../schemas.js';

/**
 * What `create --driver container` takes, checked here so the form, the CLI and the core
 * refuse bad input before the Docker engine ever sees it.
 */

// The reference grammar of distribution/reference: [domain[:port]/]path[:tag][@digest].
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_PART}(?:\\.${DOMAIN_PART})*(?::[0-9]+)?`;
const PATH_PART = '[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const NAME_RE = new RegExp(`^${PATH_PART}(?:/${PATH_PART})*(?::${TAG})?(?:@${DIGEST})?$`);

/** Why an image reference is refused, or undefined. As Docker reads one, the first component is a registry only when it holds '.' or ':' or is localhost. */
export function imageRefProblem(ref: string): string | undefined {
  if (ref.length === 0) return 'must not be empty';
  if (ref.length > 255) return 'must be at most 255 characters';
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  const hasDomain = /[.:]/.test(first) || first === 'localhost';
  const name = hasDomain ? ref.slice(slash + 1) : ref;
  if (/[A-Z]/.test(name.split(/[:@]/)[0] ?? '')) return 'must be lowercase in its repository part (busybox:latest, registry.local:5000/team/app:1.0)';
  if ((hasDomain && !DOMAIN_RE.test(first)) || !NAME_RE.test(name)) return 'is not an image reference like busybox:latest or registry.local:5000/team/app:1.0';
  return undefined;
}

export const imageRefSchema = z.string({ error: mustBe('a string') }).superRefine((v, ctx) => {
  const p = imageRefProblem(v);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

/** A Docker volume or network name. */
const engineNameSchema = z
  .string({ error: mustBe('a string') })
  .min(1, 'must not be empty')
  .max(128, 'is too long')
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must start with a letter or digit and hold only letters, digits, _ . -');

const containerPathSchema = absolutePathSchema
  .refine((v) => !v.split('/').includes('..'), "must not contain '..'")
  .refine((v) => v.replace(/\/+$/, '') !== '', 'must not be /');

export const mountSchema = z.discriminatedUnion(
  'type',
  [
    z
      .object({
        type: z.literal('bind'),
        /** A directory or file on the engine's host. */
        source: absolutePathSchema.refine((v) => !v.split('/').includes('..'), "must not contain '..'"),
        target: containerPathSchema,
        readOnly: z.boolean().default(false),
      })
      .strict(),
    z
      .object({
        type: z.literal('volume'),
        /** A named volume; created by the engine when it does not exist. */
        source: engineNameSchema,
        target: containerPathSchema,
        readOnly: z.boolean().default(false),
      })
      .strict(),
  ],
  { error: "must be a bind mount (type 'bind') or a named volume (type 'volume')" },
);
export type MountSpec = z.infer<typeof mountSchema>;

const portNumber = z.number({ error: mustBe('a port number') }).int('must be a whole number').min(1, 'must be 1–65535').max(65535, 'must be 1–65535');

export const portSchema = z
  .object({
    /** Host port; left out, the engine picks a free one. */
    host: portNumber.optional(),
    container: portNumber,
    protocol: z.enum(['tcp', 'udp'], { error: 'must be tcp or udp' }).default('tcp'),
    /** Host address to bind; all addresses when left out. */
    hostIp: z.union([z.ipv4({ error: 'must be an IP address' }), z.ipv6({ error: 'must be an IP address' })]).optional(),
  })
  .strict();
export type PortSpec = z.infer<typeof portSchema>;

export const RESTART_POLICIES = ['no', 'always', 'unless-stopped', 'on-failure'] as const;

const labelKey = z
  .string()
  .min(1, 'label names must not be empty')
  .max(256)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'label names hold letters, digits and . _ / -')
  .refine((k) => !k.startsWith('io.novacron.'), "label names starting with 'io.novacron.' are NovaCron's own");

export const containerCreateSchema = z
  .object({
    driver: z.literal('container'),
    /** The engine's container name: `docker ps` shows the same. */
    name: nameSchema.refine((v) => v.length >= 2, 'must be at least 2 characters (a Docker rule)'),
    image: imageRefSchema,
    /** Replaces the image's command: cmd is the program, args its arguments. */
    cmd: argSchema.pipe(z.string().min(1, 'must not be empty')).optional(),
    args: z.array(argSchema).max(4096, 'has too many arguments').default([]),
    /** Replaces the image's entrypoint (`--entrypoint`); an empty list clears it. */
    entrypoint: z.array(argSchema).max(64, 'is too long').optional(),
    env: envSchema.default({}),
    workdir: containerPathSchema.optional(),
    mounts: z.array(mountSchema).max(64, 'has too many mounts').default([]),
    ports: z.array(portSchema).max(256, 'has too many ports').default([]),
    /** bridge (the default), host, none, or a user network. */
    network: engineNameSchema.optional(),
    restart: z
      .object({
        policy: z.enum(RESTART_POLICIES, { error: `must be one of ${RESTART_POLICIES.join(', ')}` }),
        maxRetries: z.number().int('must be a whole number').min(0, 'must not be negative').max(1000).optional(),
      })
      .strict()
      .refine((r) => r.maxRetries === undefined || r.policy === 'on-failure', { message: 'maxRetries only goes with on-failure', path: ['maxRetries'] })
      .optional(),
    /** Relative CPU weight (default 1024). */
    cpuShares: z.number({ error: mustBe('a number') }).int('must be a whole number').min(2, 'must be at least 2').max(262144, 'must be at most 262144').optional(),
    /** CPU quota, in CPUs (1.5 = one and a half cores). */
    cpus: z.number({ error: mustBe('a number') }).min(0.01, 'must be at least 0.01').max(1024, 'must be at most 1024').optional(),
    memoryMB: memoryMbSchema.min(6, 'must be at least 6 MiB (a Docker rule)').optional(),
    labels: z.record(labelKey, z.string().max(4096, 'is too long')).default({}),
    /** Start it right after creating it (`docker run` rather than `docker create`). */
    start: z.boolean().default(false),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.ports.forEach((p, i) => {
      if (p.host === undefined) return;
      const key = `${p.hostIp ?? '*'}:${p.host}/${p.protocol}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'host'], message: `host port ${p.host}/${p.protocol} is given twice` });
      seen.add(key);
    });
    const targets = new Set<string>();
    s.mounts.forEach((m, i) => {
      const t = m.target.replace(/\/+$/, '');
      if (targets.has(t)) ctx.addIssue({ code: 'custom', path: ['mounts', i, 'target'], message: `${t} is mounted twice` });
      targets.add(t);
    });
    if (s.ports.length && (s.network === 'host' || s.network === 'none')) {
      ctx.addIssue({ code: 'custom', path: ['ports'], message: `port mappings need a network; '${s.network}' has none` });
    }
  });
export type ContainerCreateSpec = z.infer<typeof containerCreateSchema>;

/** `--mount SRC:DST[:ro]`: a source starting with '/' is a bind mount, else a named volume. */
export function parseMountFlag(text: string): { value?: MountSpec; problem?: string } {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3) return { problem: `'${text}' must look like SRC:DST or SRC:DST:ro` };
  const [source, target, mode] = parts as [string, string, string | undefined];
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') return { problem: `'${text}': the mode must be ro or rw` };
  return { value: { type: source.startsWith('/') ? 'bind' : 'volume', source, target, readOnly: mode === 'ro' } };
}

/** `--port [IP:]HOST:CONTAINER[/udp]`, `--port IP::CONTAINER` (any host port) or `--port CONTAINER[/udp]`. */
export function parsePortFlag(text: string): { value?: Record<string, unknown>; problem?: string } {
  const m = /^(?:(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):)?(?:(\d*):)?(\d+)(?:\/(tcp|udp))?$/.exec(text);
  if (!m) return { problem: `'${text}' must look like HOST:CONTAINER, IP:HOST:CONTAINER or CONTAINER, with /udp for UDP` };
  const hostIp = m[1] ?? m[2];
  return {
    value: {
      container: Number(m[4]),
      ...(m[3] ? { host: Number(m[3]) } : {}),
      protocol: m[5] ?? 'tcp',
      ...(hostIp !== undefined ? { hostIp } : {}),
    },
  };
}
