import type { BindMount } from '../../../../shared/drivers/containerd.js';
import type { ImageConfig } from './images/oci.js';

/**
 * The OCI runtime spec NovaCron gives containerd for a container: containerd's own
 * defaults for Linux (namespaces, the usual mounts, default capabilities, masked
 * paths), the image's environment and working directory, and the admin's command,
 * environment, bind mounts and limits. There is no network: each container gets an
 * empty network namespace of its own.
 */
export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: Record<'bounding' | 'effective' | 'permitted' | 'inheritable', string[]>;
  rlimits?: { type: string; hard: number; soft: number }[];
  noNewPrivileges?: boolean;
}

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly?: boolean };
  hostname: string;
  mounts: { destination: string; type: string; source: string; options: string[] }[];
  linux: {
    resources: {
      devices: { allow: boolean; access: string }[];
      memory?: { limit: number; swap?: number };
      cpu?: { quota: number; period: number };
    };
    cgroupsPath: string;
    namespaces: { type: string }[];
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const CPU_PERIOD_US = 100_000;

/** What of the admin's create request shapes the container: both the OCI spec and the stored definition hold it. */
export interface RunFields {
  cmd?: string;
  args: string[];
  env: Record<string, string>;
  mounts: BindMount[];
  memoryMB?: number;
  cpus?: number;
}

/** The run fields of a create request, optional ones only when given (exactOptionalPropertyTypes). */
export function runFieldsOf(s: RunFields): RunFields {
  return {
    ...(s.cmd !== undefined ? { cmd: s.cmd } : {}),
    args: s.args,
    env: s.env,
    mounts: s.mounts,
    ...(s.memoryMB !== undefined ? { memoryMB: s.memoryMB } : {}),
    ...(s.cpus !== undefined ? { cpus: s.cpus } : {}),
  };
}

export interface SpecInput extends RunFields {
  namespace: string;
  id: string;
  image: ImageConfig;
}

/** The command line: the admin's program and arguments, else the image's entrypoint and command. */
export function commandOf(input: Pick<SpecInput, 'image' | 'cmd' | 'args'>): string[] {
  const cfg = input.image.config ?? {};
  if (input.cmd) return [input.cmd, ...input.args];
  return [...(cfg.Entrypoint ?? []), ...(input.args.length ? input.args : (cfg.Cmd ?? []))];
}

/** Image env first, then the admin's, by name; PATH is always set. */
export function envOf(imageEnv: readonly string[] | null | undefined, env: Record<string, string>): string[] {
  const merged = new Map<string, string>();
  for (const kv of [DEFAULT_PATH, ...(imageEnv ?? [])]) {
    const eq = kv.indexOf('=');
    if (eq > 0) merged.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  for (const [k, v] of Object.entries(env)) merged.set(k, v);
  return [...merged].map(([k, v]) => `${k}=${v}`);
}

/** Memory and CPU limits as the OCI spec (and a runtime's update) spell them. */
export function resourcesOf(r: { memoryMB?: number; cpus?: number }): Pick<OciSpec['linux']['resources'], 'memory' | 'cpu'> {
  const out: Pick<OciSpec['linux']['resources'], 'memory' | 'cpu'> = {};
  if (r.memoryMB !== undefined) {
    const bytes = r.memoryMB * 1024 * 1024;
    // swap = limit: no swap beyond the memory limit, so the limit means what it says.
    out.memory = { limit: bytes, swap: bytes };
  }
  if (r.cpus !== undefined) out.cpu = { quota: Math.round(r.cpus * CPU_PERIOD_US), period: CPU_PERIOD_US };
  return out;
}

export function generateSpec(input: SpecInput): OciSpec {
  const cfg = input.image.config ?? {};
  const resources: OciSpec['linux']['resources'] = {
    devices: [{ allow: false, access: 'rwm' }],
    ...resourcesOf({ ...(input.memoryMB !== undefined ? { memoryMB: input.memoryMB } : {}), ...(input.cpus !== undefined ? { cpus: input.cpus } : {}) }),
  };
  return {
    ociVersion: '1.0.2-dev',
    process: {
      user: { uid: 0, gid: 0 },
      args: commandOf(input),
      env: envOf(cfg.Env, input.env),
      cwd: cfg.WorkingDir || '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS, inheritable: [] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs' },
    hostname: input.id.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 63),
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      ...input.mounts.map((m) => ({
        destination: m.target,
        type: 'bind',
        source: m.source,
        options: ['rbind', 'rprivate', m.readOnly ? 'ro' : 'rw'],
      })),
    ],
    linux: {
      resources,
      cgroupsPath: `/${input.namespace}/${input.id}`,
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }],
      maskedPaths: [
        '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
