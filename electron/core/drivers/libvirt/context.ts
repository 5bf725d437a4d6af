import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../../../shared/config.js';
import { driverError } from '../../base/errors.js';
import { withLock } from '../../base/lock.js';
import type { DriverEnv } from '../driver.js';
import { probe, type LvHost, type Probe } from './detect.js';
import { Domains } from './domains.js';
import type { DomainFacts } from './domxml.js';
import { D, Virsh } from './virsh.js';

/** How long a detection is trusted before the connection is probed again (a daemon that came back). */
const PROBE_TTL_MS = 5_000;

/** What every part of the libvirt driver shares: the connection, the domains, the data dir. */
export class Lv {
  readonly virsh: Virsh;
  readonly domains: Domains;
  /** $NOVACRON_HOME/libvirt: one folder per domain NovaCron defined (disks, serial log, VNC socket). */
  readonly base: string;
  private probed: { at: number; p: Promise<Probe> } | undefined;
  private lastFailed = false;

  constructor(readonly env: DriverEnv) {
    this.virsh = new Virsh(env.config['libvirt.uri']);
    this.domains = new Domains(this.virsh);
    this.base = join(env.paths.home, 'libvirt');
  }

  get config(): Config {
    return this.env.config;
  }

  get uri(): string {
    return this.virsh.uri;
  }

  /** Local connections (no host in the URI) are the ones whose files NovaCron can make and read. */
  get local(): boolean {
    return !this.virsh.remote;
  }

  probe(signal: AbortSignal, refresh = false): Promise<Probe> {
    if (!refresh && this.probed && Date.now() - this.probed.at < PROBE_TTL_MS) return this.probed.p;
    // All questions at once, unless the last probe failed: a daemon that is down is asked
    // again every few seconds while someone watches, with one virsh each time.
    const p = probe(this.virsh, signal, !this.lastFailed);
    this.probed = { at: Date.now(), p };
    void p.then((r) => (this.lastFailed = !r.ok));
    return p;
  }

  async host(signal: AbortSignal): Promise<LvHost> {
    const r = await this.probe(signal);
    if (!r.ok) throw driverError(D, 'UNAVAILABLE', r.reason);
    return r.host;
  }

  dirOf(uuid: string): string {
    return join(this.base, uuid);
  }

  /** A domain this data dir defined: its folder here is its own, to delete with it. */
  owns(facts: DomainFacts): boolean {
    return facts.nova?.dir === this.dirOf(facts.uuid);
  }

  /**
   * A lock every NovaCron process on this data dir honours, for operations of several
   * steps (an ACPI stop that waits, a delete, a conversion). libvirt serialises its own
   * jobs per domain; this keeps two of ours from interleaving.
   */
  async withLock<T>(key: string, op: string, what: string, fn: () => Promise<T>): Promise<T> {
    await mkdir(join(this.base, '.locks'), { recursive: true, mode: 0o700 });
    return withLock(join(this.base, '.locks', key), op, what, fn);
  }
}

export const what = (f: Pick<DomainFacts, 'name'>) => `domain '${f.name}'`;
