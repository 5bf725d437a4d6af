import { lookup } from 'node:dns/promises';
import { realpath } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import { resolve } from 'node:path';
import { NovaError } from '../base/errors.js';
import type { ConsoleEndpoint } from '../drivers/driver.js';

/**
 * Which VNC targets the web mode may reach. A saved connection is a TCP (or unix socket)
 * tunnel from the server's host to wherever the admin names: in the headless server that
 * is off unless the operator lists the networks it may reach (`serve --vnc-allow`), so a
 * token holder cannot turn the server into a tunnel into the rest of the network.
 */
export class VncPolicy {
  private readonly nets = new BlockList();
  private readonly socketDirs: string[] = [];

  private constructor(readonly entries: string[]) {}

  /** `10.0.0.0/8,192.168.1.7,fd00::/8,unix:/var/lib/libvirt/qemu/`: INVALID_ARGUMENT naming the bad entry. */
  static parse(spec: string, field = 'vnc-allow'): VncPolicy {
    const entries = spec
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    if (entries.length === 0) throw new NovaError('INVALID_ARGUMENT', `--${field}: give at least one network (CIDR) or unix:/DIR/`, { field });
    const p = new VncPolicy(entries);
    for (const e of entries) {
      if (e.startsWith('unix:')) {
        const dir = e.slice(5);
        if (!dir.startsWith('/') || dir.includes('..')) throw new NovaError('INVALID_ARGUMENT', `--${field}: '${e}' must look like unix:/ABSOLUTE/DIR/`, { field });
        p.socketDirs.push(dir.endsWith('/') ? dir : `${dir}/`);
        continue;
      }
      const [addr = '', bits] = e.split('/');
      const family = isIP(addr);
      const max = family === 6 ? 128 : 32;
      const prefix = bits === undefined ? max : Number(bits);
      if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max || (bits !== undefined && !/^\d+$/.test(bits))) {
        throw new NovaError('INVALID_ARGUMENT', `--${field}: '${e}' is not a network (10.0.0.0/8, 192.168.1.7, fd00::/8) nor unix:/DIR/`, { field });
      }
      p.nets.addSubnet(addr, prefix, family === 6 ? 'ipv6' : 'ipv4');
    }
    return p;
  }

  /**
   * The endpoint to actually connect to: a host name is resolved here and the address
   * checked is the address used, so a name that later resolves elsewhere changes nothing.
   */
  async check(target: { host?: string; port?: number; socket?: string }): Promise<ConsoleEndpoint> {
    if (target.socket !== undefined) {
      const plain = resolve(target.socket);
      const real = await realpath(plain).catch(() => plain);
      if (!this.socketDirs.some((d) => real.startsWith(d))) throw refused(`unix socket ${target.socket}`, this.entries);
      return { kind: 'unix', path: real };
    }
    const host = (target.host ?? '').replace(/^\[|\]$/g, '');
    const addrs = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true }).catch((e: Error) => {
      throw new NovaError('UNAVAILABLE', `cannot resolve ${host}: ${e.message}`);
    });
    const ok = addrs.find((a) => this.nets.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4'));
    if (!ok) throw refused(`${host} (${addrs.map((a) => a.address).join(', ')})`, this.entries);
    return { kind: 'tcp', host: ok.address, port: target.port ?? 5900 };
  }
}

const refused = (what: string, entries: string[]) =>
  new NovaError('NOT_SUPPORTED', `${what} is outside what this server may reach (--vnc-allow ${entries.join(',')})`);
