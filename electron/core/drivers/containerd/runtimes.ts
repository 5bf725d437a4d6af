import { constants } from 'node:fs';
import { access, chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import type { SandboxRuntime } from '../../../../shared/drivers/containerd.js';
import { packAny } from './api/codec.js';
import type { Any } from './api/messages.js';
import type { Family } from './context.js';
import type { ToolFacts } from '../../base/tool-facts.js';

/**
 * Which sandbox runtimes this host has, and how containerd is told to use each:
 * - runc: runc's shim (io.containerd.runc.v2) and runc.
 * - runsc: the same shim with gVisor's runsc as its runtime binary. runsc is runc-
 *   compatible, but on these hosts it needs the ptrace platform (its KVM platform
 *   hangs under nested virtualisation) and no network stack (there is no CNI to hand it
 *   one), so the shim runs a two-line wrapper in our data dir that adds those flags.
 * - kata: Kata's own shim (containerd-shim-kata-v2), which boots a lightweight VM with
 *   a hypervisor; containerd finds the shim on its PATH by the runtime's name.
 */
export interface RuntimeFound {
  available: boolean;
  /** Why not, in words the matrix and the create form show. */
  reason?: string;
  /** What was found: a binary path and version. */
  detail?: string;
}

export type Runtimes = Record<SandboxRuntime, RuntimeFound>;

export const RUNC_SHIM = 'io.containerd.runc.v2';

/** PATH as containerd (root, started by systemd or our engines script) will see it, plus ours. */
const SEARCH = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

async function which(name: string, extra: string[] = []): Promise<string | undefined> {
  for (const dir of [...SEARCH, ...extra]) {
    if (!dir.startsWith('/')) continue;
    const p = join(dir, name);
    const ok = await access(p, constants.X_OK).then(() => true, () => false);
    if (ok && (await stat(p)).isFile()) return p;
  }
  return undefined;
}

async function versionOf(bin: string, args: string[], facts?: ToolFacts): Promise<string> {
  const run = async () => {
    const r = await execa(bin, args, { reject: false, timeout: 5000 });
    return r.exitCode === 0 ? r.stdout || r.stderr : undefined;
  };
  const out = (facts ? await facts.output(bin, args, run) : await run()) ?? '';
  return out.split('\n')[0]?.trim() ?? '';
}

/** Where Kata keeps its configuration, newest layout first. */
const KATA_CONFIGS = [
  '/etc/kata-containers/configuration.toml',
  '/opt/kata/share/defaults/kata-containers/configuration.toml',
  '/usr/share/defaults/kata-containers/configuration.toml',
];

/** The binary each Kata hypervisor runs as, when it is not Kata's own build. */
const HYPERVISORS: Record<string, string> = { qemu: 'qemu-system-x86_64', clh: 'cloud-hypervisor', 'cloud-hypervisor': 'cloud-hypervisor', firecracker: 'firecracker' };

async function detectKata(hypervisor: string): Promise<RuntimeFound> {
  const shim = await which('containerd-shim-kata-v2', ['/opt/kata/bin']);
  if (!shim) {
    const bin = HYPERVISORS[hypervisor];
    const hv = bin ? await which(bin, ['/opt/kata/bin']) : undefined;
    const hvNote = hv ? `its hypervisor ${hypervisor} is there (${hv})` : `nor is its hypervisor ${hypervisor}`;
    return {
      available: false,
      reason: `Kata Containers is not installed: containerd-shim-kata-v2 is neither on PATH nor in /opt/kata/bin; ${hvNote} (Debian does not package Kata; install a release from github.com/kata-containers/kata-containers)`,
    };
  }
  let config: string | undefined;
  for (const c of KATA_CONFIGS) {
    config = await readFile(c, 'utf8').catch(() => undefined);
    if (config !== undefined) break;
  }
  if (config === undefined) return { available: false, reason: `${shim} is there but no Kata configuration.toml was found (${KATA_CONFIGS.join(', ')})` };
  // The [hypervisor.<name>] section names the hypervisor binary Kata will start.
  const section = new RegExp(`\\[hypervisor\\.${hypervisor.replace(/[^a-z0-9_-]/gi, '')}\\][^[]*?\\bpath\\s*=\\s*"([^"]+)"`, 's').exec(config);
  if (!section) return { available: false, reason: `Kata's configuration has no [hypervisor.${hypervisor}] section (kata_containers.hypervisor)` };
  const hv = section[1]!;
  if (!(await access(hv, constants.X_OK).then(() => true, () => false))) return { available: false, reason: `Kata's hypervisor ${hv} is missing` };
  if (!(await access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false))) {
    return { available: false, reason: 'Kata needs /dev/kvm, which is missing or not accessible' };
  }
  return { available: true, detail: `${shim} with ${hypervisor} (${hv})` };
}

/** facts: where the binaries' answers are remembered between processes (base/tool-facts.ts). */
export async function detectRuntimes(hypervisor: string, facts?: ToolFacts): Promise<Runtimes> {
  const [runc, runsc] = await Promise.all([which('runc'), which('runsc')]);
  const [runcVersion, runscVersion, kata] = await Promise.all([
    runc ? versionOf(runc, ['--version'], facts) : undefined,
    runsc ? versionOf(runsc, ['--version'], facts) : undefined,
    detectKata(hypervisor),
  ]);
  return {
    runc: runc ? { available: true, detail: `${runc} (${runcVersion})` } : { available: false, reason: 'runc is not installed (apt install runc)' },
    runsc: runsc
      ? { available: true, detail: `${runsc} (${runscVersion}), platform ptrace, no network` }
      : { available: false, reason: 'gVisor is not installed: no runsc on PATH (apt install runsc)' },
    kata,
  };
}

/** The flags runsc needs here; see the note at the top. */
const RUNSC_FLAGS = ['--platform=ptrace', '--network=none'];

/**
 * The wrapper runc's shim runs instead of runc for gVisor workloads. Written once into
 * the data dir (atomically, so a shim never runs half a file); its content only names
 * runsc's absolute path, which is checked to be plain.
 */
async function runscWrapper(f: Family): Promise<string> {
  const runsc = await which('runsc');
  if (!runsc || !/^[A-Za-z0-9/._+-]+$/.test(runsc)) throw new Error('runsc is not installed');
  const path = join(f.base, 'bin', 'runsc');
  const body = `#!/bin/sh\n# Written by NovaCron: gVisor as containerd's runc shim runs it, with the flags this host needs.\nexec ${runsc} ${RUNSC_FLAGS.join(' ')} "$@"\n`;
  if ((await readFile(path, 'utf8').catch(() => '')) === body) return path;
  await mkdir(join(f.base, 'bin'), { recursive: true, mode: 0o755 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, body, { mode: 0o755 });
  await chmod(tmp, 0o755);
  await rename(tmp, path);
  return path;
}

/** containerd's runtime name and options for a container of this sandbox runtime. */
export async function runtimeFor(f: Family, rt: SandboxRuntime): Promise<{ name: string; options?: Any }> {
  switch (rt) {
    case 'runc':
      return { name: RUNC_SHIM };
    case 'runsc':
      return { name: RUNC_SHIM, options: packAny('containerd.runc.v1.Options', { binary_name: await runscWrapper(f) }) };
    case 'kata':
      return { name: f.kataRuntimeName };
  }
}

/** Which sandbox a container found in containerd runs in, from its runtime record. */
export function runtimeOf(runtimeName: string | undefined, binaryName: string | undefined, kataName: string): string {
  if (!runtimeName) return 'unknown';
  if (runtimeName === kataName || runtimeName.includes('kata')) return 'kata';
  if (runtimeName.includes('runsc') || binaryName?.includes('runsc')) return 'runsc';
  if (runtimeName.startsWith('io.containerd.runc.')) return binaryName && !binaryName.endsWith('runc') ? binaryName : 'runc';
  return runtimeName;
}
