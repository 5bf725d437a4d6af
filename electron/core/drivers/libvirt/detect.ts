import { all, child, parseXml } from './xml.js';
import { type Virsh, VirshError, uriHost } from './virsh.js';

/** What the connection's host offers, read once per driver instance. */
export interface LvHost {
  libvirt: string;
  daemon?: string;
  /** "QEMU 7.2.22" */
  hypervisor?: string;
  /** Whether libvirt offers type='kvm' domains for x86_64 here (it probes /dev/kvm itself). */
  kvm: boolean;
  /** x86_64 machine types, with their aliases ("pc" as well as "pc-i440fx-7.2"). */
  machines: Set<string>;
  cpus?: number;
  memoryKiB?: number;
}

export type Probe = { ok: true; host: LvHost } | { ok: false; reason: string; absent?: boolean };

/** Why the driver cannot use its connection, in words an admin acts on. */
export function explain(uri: string, e: unknown): { reason: string; absent?: boolean } {
  const msg = e instanceof VirshError ? e.raw.replace(/^error:\s*/gm, '').replace(/\n+/g, ': ').trim() : (e as Error).message;
  if (/is not installed/.test(msg)) return { reason: msg.replace(/^libvirt: /, ''), absent: true };
  const sock = /Failed to connect socket to '([^']+)': (No such file or directory|Connection refused)/.exec(msg);
  if (sock) return { reason: `libvirtd is not running (nothing listens at ${sock[1]}): start it (systemctl start libvirtd, or /usr/sbin/libvirtd -d)` };
  if (/Permission denied \(publickey|Host key verification failed|Could not resolve hostname/i.test(msg)) return { reason: `ssh to ${uriHost(uri) ?? 'the host'} refused the login: ${msg}` };
  if (/Connection refused|unable to connect to server/i.test(msg)) return { reason: `libvirtd does not answer at ${uri}: ${msg}` };
  if (/Permission denied|authentication (failed|unavailable)|access denied|polkit|system bus connection/i.test(msg)) {
    return { reason: `permission denied: this user may not manage ${uri} (add it to the libvirt group, or use qemu:///session): ${msg}` };
  }
  return { reason: `cannot connect to ${uri}: ${msg}` };
}

/** `virsh version --daemon`: library, daemon and hypervisor versions. */
export function parseVersion(text: string): Pick<LvHost, 'libvirt' | 'daemon' | 'hypervisor'> {
  const lib = /Using library: libvirt (\S+)/.exec(text)?.[1] ?? 'unknown';
  const daemon = /Running against daemon: (\S+)/.exec(text)?.[1];
  const hyp = /Running hypervisor: (.+)/.exec(text)?.[1]?.trim();
  return { libvirt: lib, ...(daemon ? { daemon } : {}), ...(hyp ? { hypervisor: hyp } : {}) };
}

/** `virsh capabilities`: which domain types and machines x86_64 guests may use. */
export function parseCapabilities(xml: string): Pick<LvHost, 'kvm' | 'machines'> {
  const caps = parseXml(xml);
  const machines = new Set<string>();
  let kvm = false;
  for (const guest of all(caps, 'guest')) {
    const arch = child(guest, 'arch');
    if (arch?.attrs.name !== 'x86_64') continue;
    const add = (els: ReturnType<typeof all>) => {
      for (const m of els) {
        machines.add(m.text.trim());
        if (m.attrs.canonical) machines.add(m.attrs.canonical);
      }
    };
    add(all(arch, 'machine'));
    for (const d of all(arch, 'domain')) {
      if (d.attrs.type === 'kvm') kvm = true;
      add(all(d, 'machine'));
    }
  }
  return { kvm, machines };
}

/**
 * What the connection offers. `together`: ask capabilities and nodeinfo alongside version,
 * one virsh round trip rather than two (~40 ms, the last step of `novacron ls` here); else
 * only once version answered, so a connection that is down costs one virsh, not three.
 * Either way version's error is the one explained: the others fail for the same reason.
 */
export async function probe(virsh: Virsh, signal: AbortSignal, together = true): Promise<Probe> {
  const opts = { signal, timeoutMs: 15_000 };
  const rest = () =>
    [virsh.run(['capabilities'], opts).then(parseCapabilities), virsh.run(['nodeinfo'], opts).catch(() => '')] as const;
  const version = virsh.run(['version', '--daemon'], opts);
  const early = together ? rest() : undefined;
  // Seen below when version answers; when it does not, its error is the one reported.
  early?.[0].catch(() => undefined);
  try {
    const v = parseVersion(await version);
    const [caps, node] = await Promise.all(early ?? rest());
    const cpus = Number(/^CPU\(s\):\s+(\d+)/m.exec(node)?.[1]) || undefined;
    const memoryKiB = Number(/^Memory size:\s+(\d+) KiB/m.exec(node)?.[1]) || undefined;
    return { ok: true, host: { ...v, ...caps, ...(cpus ? { cpus } : {}), ...(memoryKiB ? { memoryKiB } : {}) } };
  } catch (e) {
    return { ok: false, ...explain(virsh.uri, e) };
  }
}
