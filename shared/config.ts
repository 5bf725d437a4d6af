import { z } from 'zod';
import { mustBe } from './schemas.js';

/**
 * The configuration keys: the seed's deployment configuration, flat and dotted. The file
 * is nested YAML (optionally under `vm_drivers:`, as the seed wrote it); every key can be
 * overridden by its environment variable. Defaults are computed by the core, because
 * they depend on the host (data dir, socket paths).
 */
const path = z
  .string({ error: mustBe('a string') })
  .min(1, 'must not be empty')
  .max(4096, 'is too long')
  .refine((v) => v.startsWith('/'), 'must be an absolute path')
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we reject
  .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'must not contain control characters');
const bool = z.boolean({ error: mustBe('true or false') });
const text = z.string({ error: mustBe('a string') }).min(1, 'must not be empty').max(1024, 'is too long');
/** A containerd runtime type (io.containerd.kata.v2): a name, never a path to a shim binary containerd would run. */
const runtimeName = z.string({ error: mustBe('a string') }).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be a runtime name like io.containerd.kata.v2');
/**
 * Whether a libvirt URI makes libvirt run a local program: the `ext` transport, and the
 * `command=`/`netcat=` parameters (ssh's too). Only the admin may set such a URI (to route
 * ssh through their own wrapper, say); from the page it is refused like the adminOnly keys.
 */
export function libvirtUriRunsProgram(uri: string): boolean {
  return /^[a-z0-9]+\+ext:/i.test(uri) || /[?&](command|netcat)=/i.test(uri);
}
const libvirtUri = text.regex(/^[a-z0-9]+(\+[a-z0-9]+)?:/i, 'must be a libvirt URI (driver[+transport]://…)');

/**
 * Keys naming a program NovaCron runs or a directory it writes to. Only the admin sets
 * them (the config file, the environment, `novacron config set`): from the window or a
 * browser, `config.set` refuses them, so the page can never make the core run a program
 * or write outside the data dir of its choosing.
 */
const adminOnly = true as const;

export const CONFIG_KEYS = {
  node_id: { schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be a host-like name'), env: 'NOVACRON_NODE_ID', help: 'This machine\'s name in NovaCron' },
  'process.base_path': { schema: path, env: 'NOVACRON_PROCESS_BASE_PATH', help: 'Where process workloads live', adminOnly },
  'kvm.qemu_binary': { schema: text, env: 'NOVACRON_KVM_QEMU_BINARY', help: 'qemu-system-x86_64 to run', adminOnly },
  'kvm.qemu_img_binary': { schema: text, env: 'NOVACRON_KVM_QEMU_IMG_BINARY', help: 'qemu-img to run', adminOnly },
  'kvm.vm_base_path': { schema: path, env: 'NOVACRON_KVM_VM_BASE_PATH', help: 'Where VM directories live', adminOnly },
  'kvm.enable_kvm': { schema: bool, env: 'NOVACRON_KVM_ENABLE_KVM', help: 'Use /dev/kvm when accel is auto' },
  'container.docker_path': { schema: text, env: 'NOVACRON_CONTAINER_DOCKER_PATH', help: 'docker CLI (only shown, never run by the driver)' },
  'container.docker_host': { schema: text, env: 'DOCKER_HOST', help: 'Docker engine address' },
  'containerd.address': { schema: path, env: 'CONTAINERD_ADDRESS', help: 'containerd socket' },
  'containerd.namespace': { schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,75}$/, 'must be a containerd namespace name'), env: 'NOVACRON_CONTAINERD_NAMESPACE', help: 'containerd namespace NovaCron works in' },
  'kata_containers.runtime': { schema: runtimeName, env: 'NOVACRON_KATA_RUNTIME', help: 'containerd runtime of the sandbox', adminOnly },
  'kata_containers.hypervisor': { schema: text, env: 'NOVACRON_KATA_HYPERVISOR', help: 'Kata hypervisor' },
  'kata_containers.base_path': { schema: path, env: 'NOVACRON_KATA_BASE_PATH', help: 'Kata working directory', adminOnly },
  'libvirt.uri': { schema: libvirtUri, env: 'LIBVIRT_DEFAULT_URI', help: 'libvirt connection URI' },
  'libvirt.shared_storage': { schema: bool, env: 'NOVACRON_LIBVIRT_SHARED_STORAGE', help: 'Domain disks are on storage shared with migration peers that libvirt cannot recognise: live migration passes --unsafe' },
  'log.level': {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be one of fatal, error, warn, info, debug, trace, silent' }),
    env: 'NOVACRON_LOG_LEVEL',
    help: 'How much the core writes to its log (state/logs/novacron.log)',
  },
} as const;

export type ConfigKey = keyof typeof CONFIG_KEYS;
export type Config = { [K in ConfigKey]: z.output<(typeof CONFIG_KEYS)[K]['schema']> };
export const CONFIG_KEY_NAMES = Object.keys(CONFIG_KEYS) as ConfigKey[];

export function isConfigKey(key: string): key is ConfigKey {
  return Object.hasOwn(CONFIG_KEYS, key);
}

/** Whether only the admin may set this key (see adminOnly above); the Settings screen shows it read-only. */
export function isAdminOnlyKey(key: ConfigKey): boolean {
  const k = CONFIG_KEYS[key];
  return 'adminOnly' in k && k.adminOnly === true;
}

/** `config.set`: values to write, null to remove a key from the file (back to its default). */
export const configPatchSchema = z
  .object({
    values: z.record(z.string(), z.union([z.string(), z.boolean(), z.null()])),
  })
  .strict()
  .superRefine((patch, ctx) => {
    for (const [key, value] of Object.entries(patch.values)) {
      if (!isConfigKey(key)) {
        ctx.addIssue({ code: 'custom', path: ['values', key], message: `is not a configuration key (known: ${CONFIG_KEY_NAMES.join(', ')})` });
        continue;
      }
      if (value === null) continue;
      const r = CONFIG_KEYS[key].schema.safeParse(value);
      if (!r.success) ctx.addIssue({ code: 'custom', path: ['values', key], message: r.error.issues[0]?.message ?? 'is invalid' });
    }
  });
