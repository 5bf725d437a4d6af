import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { VncConnection, VncConnections, VncSaveInput, VncTicket } from '../../../shared/control-room.js';
import { NovaError } from '../base/errors.js';
import { readJson, writeJsonAtomic } from '../base/fsx.js';
import { connectUnix } from '../base/unix-socket.js';
import type { ConsoleEndpoint, Origin } from '../drivers/driver.js';
import type { ConsoleProxy } from '../services/console-proxy.js';
import type { VncPolicy } from './vnc-policy.js';

interface Saved extends Omit<VncConnection, 'hasPassword'> {
  password?: string;
}

/** How long `vnc.open` waits to see the target answer before saying it cannot be reached. */
const PROBE_MS = 4000;

/**
 * Saved VNC connections: consoles to machines NovaCron does not run (a libvirt VM, a
 * lab box's BMC), opened through the core's console proxy like a VM's own. Kept in
 * `$NOVACRON_HOME/vnc-connections.json` (mode 0600); the password never leaves the core
 * except to the page that opens the console, whose VNC client answers the challenge.
 */
export class VncConnectionsService {
  /** undefined: every origin may connect anywhere (the desktop and the CLI are the admin). */
  private headless: VncPolicy | undefined;
  private serialise: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly home: string,
    private readonly proxy: ConsoleProxy,
  ) {}

  /** `serve --vnc-allow`: which targets the web mode may reach; without it, none. */
  allowHeadless(policy: VncPolicy | undefined): void {
    this.headless = policy;
  }

  private get file() {
    return join(this.home, 'vnc-connections.json');
  }

  private async read(): Promise<Saved[]> {
    return (await readJson<{ connections: Saved[] }>(this.file))?.connections ?? [];
  }

  /** Read-modify-write of the file, one at a time within this process; the write is atomic. */
  private update<T>(fn: (list: Saved[]) => T | Promise<T>): Promise<T> {
    const run = this.serialise.then(async () => {
      const list = await this.read();
      const out = await fn(list);
      await mkdir(this.home, { recursive: true });
      await writeJsonAtomic(this.file, { connections: list });
      return out;
    });
    this.serialise = run.catch(() => undefined);
    return run;
  }

  private gate(origin: Origin): void {
    if (origin === 'headless' && !this.headless) {
      throw new NovaError('NOT_SUPPORTED', 'consoles to other VNC servers are off in the web mode: the operator can allow target networks with `novacron serve --vnc-allow CIDR[,CIDR…]`');
    }
  }

  async list(origin: Origin): Promise<VncConnections> {
    const connections = (await this.read()).map(toPublic);
    if (origin !== 'headless') return { enabled: true, connections };
    if (!this.headless) {
      return { enabled: false, reason: 'off in the web mode: start `novacron serve --vnc-allow CIDR[,CIDR…]` to allow target networks', connections };
    }
    return { enabled: true, allow: this.headless.entries, connections };
  }

  async save(input: VncSaveInput, origin: Origin): Promise<VncConnection> {
    this.gate(origin);
    // A literal address outside the allowed networks is refused now rather than at every open.
    if (origin === 'headless' && (input.socket !== undefined || /^[\d.]+$|:/.test(input.host ?? ''))) await this.headless!.check(input);
    return this.update((list) => {
      const target = input.socket !== undefined ? { socket: input.socket } : { host: input.host!, port: input.port! };
      if (input.id !== undefined) {
        const at = list.findIndex((c) => c.id === input.id);
        if (at < 0) throw new NovaError('NOT_FOUND', `saved connection ${input.id} does not exist`, { field: 'id' });
        const old = list[at]!;
        const password = input.password === undefined ? old.password : input.password || undefined;
        const next: Saved = { id: old.id, label: input.label, ...target, createdAt: old.createdAt, ...(password ? { password } : {}) };
        list[at] = next;
        return toPublic(next);
      }
      if (list.length >= 500) throw new NovaError('CONFLICT', 'at most 500 saved connections');
      const next: Saved = { id: randomBytes(6).toString('hex'), label: input.label, ...target, createdAt: new Date().toISOString(), ...(input.password ? { password: input.password } : {}) };
      list.push(next);
      return toPublic(next);
    });
  }

  async delete(id: string, origin: Origin): Promise<{ id: string }> {
    this.gate(origin);
    return this.update((list) => {
      const at = list.findIndex((c) => c.id === id);
      if (at < 0) throw new NovaError('NOT_FOUND', `saved connection ${id} does not exist`, { field: 'id' });
      list.splice(at, 1);
      return { id };
    });
  }

  async open(id: string, origin: Origin): Promise<VncTicket> {
    this.gate(origin);
    const saved = (await this.read()).find((c) => c.id === id);
    if (!saved) throw new NovaError('NOT_FOUND', `saved connection ${id} does not exist`, { field: 'id' });
    const endpoint: ConsoleEndpoint =
      origin === 'headless'
        ? await this.headless!.check(saved)
        : saved.socket !== undefined
          ? { kind: 'unix', path: saved.socket }
          : { kind: 'tcp', host: saved.host!, port: saved.port! };
    await probe(endpoint, describe(saved));
    const ticket = this.proxy.ticketFor(endpoint, origin);
    return { ...ticket, label: saved.label, ...(saved.password ? { password: saved.password } : {}) };
  }
}

const toPublic = ({ password, ...rest }: Saved): VncConnection => ({ ...rest, hasPassword: Boolean(password) });

const describe = (c: Saved) => (c.socket !== undefined ? c.socket : `${c.host}:${c.port}`);

/** Is anything listening there? A clear error now beats a console that just stays black. */
async function probe(ep: ConsoleEndpoint, what: string): Promise<void> {
  try {
    const sock =
      ep.kind === 'unix'
        ? await connectUnix(ep.path, PROBE_MS)
        : await new Promise<Socket>((resolve, reject) => {
            const s = connect({ host: ep.host, port: ep.port, timeout: PROBE_MS });
            s.once('connect', () => resolve(s));
            s.once('timeout', () => {
              s.destroy();
              reject(new Error('timed out'));
            });
            s.once('error', reject);
          });
    sock.destroy();
  } catch (e) {
    throw new NovaError('UNAVAILABLE', `cannot reach the VNC server at ${what}: ${(e as Error).message}`);
  }
}
