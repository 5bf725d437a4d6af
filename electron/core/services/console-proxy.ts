import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseWorkloadId } from '../../../shared/ids.js';
import type { ConsoleTicket } from '../../../shared/model.js';
import { NovaError } from '../base/errors.js';
import type { Disposable } from '../base/lifecycle.js';
import { connectUnix, type OnRead } from '../base/unix-socket.js';
import { ConsoleSession, consoleReader } from './console-pipe.js';
import { acceptUpgrade } from './ws-handshake.js';
import { CLOSE } from './ws-frames.js';
import type { ConsoleEndpoint, Origin } from '../drivers/driver.js';
import type { DriverManager } from '../drivers/manager.js';
import type { WsRoute } from '../transport/server.js';

/** A ticket is good for one connection, within this long of being issued. */
const TICKET_TTL_MS = 30_000;
const PATH = '/console';

/** Bound to a workload (its endpoint is looked up at connect time) or to a fixed endpoint (a saved VNC connection). */
type Ticket = ({ workloadId: string } | { endpoint: ConsoleEndpoint }) & { expires: number };

/**
 * The VNC consoles, to the page: a WebSocket per console session bridged to the VM's VNC
 * socket (which only the core can reach). Each session needs a one-time ticket bound to
 * one workload, issued by `console.open` through the contract. The headless server
 * serves it as a route (its token is required there as for everything); the desktop app
 * runs it on 127.0.0.1 with the ticket alone.
 */
export class ConsoleProxy implements Disposable {
  private readonly tickets = new Map<string, Ticket>();
  private readonly live = new Set<ConsoleSession>();
  private standalone: { server: Server; base: string } | undefined;

  constructor(private readonly drivers: DriverManager) {}

  /** Issue a ticket for a workload's console; fails at once if the workload has no screen now. */
  async open(id: string, origin: Origin): Promise<ConsoleTicket> {
    await this.endpoint(id, AbortSignal.timeout(10_000));
    return this.issue({ workloadId: id }, origin);
  }

  /** A ticket for an endpoint the caller already vetted (services/vnc-connections checks it against the web mode's allow-list). */
  ticketFor(endpoint: ConsoleEndpoint, origin: Origin): ConsoleTicket {
    return this.issue({ endpoint }, origin);
  }

  private issue(bound: { workloadId: string } | { endpoint: ConsoleEndpoint }, origin: Origin): ConsoleTicket {
    this.prune();
    const ticket = randomBytes(24).toString('base64url');
    const expires = Date.now() + TICKET_TTL_MS;
    this.tickets.set(ticket, { ...bound, expires });
    const path = `${PATH}?ticket=${ticket}`;
    // The page of the headless server connects to its own origin; every other client to the standalone proxy.
    const url = origin !== 'headless' && this.standalone ? `${this.standalone.base}${path}` : undefined;
    return { path, ...(url ? { url } : {}), expiresAt: new Date(expires).toISOString() };
  }

  private async endpoint(id: string, signal: AbortSignal): Promise<ConsoleEndpoint> {
    const ref = parseWorkloadId(id);
    if (!ref) throw new NovaError('INVALID_ARGUMENT', `id: '${id}' is not a workload id`, { field: 'id' });
    const driver = await this.drivers.require(ref.driver, 'console');
    return driver.console!(ref.local, signal);
  }

  private prune(): void {
    const now = Date.now();
    for (const [t, v] of this.tickets) if (v.expires < now) this.tickets.delete(t);
  }

  /** Whether a request carries a ticket that is still good; does not use it up. */
  private valid(url: URL): boolean {
    const t = this.tickets.get(url.searchParams.get('ticket') ?? '');
    return t !== undefined && t.expires >= Date.now();
  }

  private take(url: URL): Ticket | undefined {
    const key = url.searchParams.get('ticket') ?? '';
    const t = this.tickets.get(key);
    this.tickets.delete(key);
    return t && t.expires >= Date.now() ? t : undefined;
  }

  /** Answer the upgrade and bridge the WebSocket to the console its ticket names. */
  private handle(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    socket.on('error', () => undefined);
    if (!acceptUpgrade(req, socket)) return;
    const session = new ConsoleSession(socket as Socket, head, (s) => this.live.delete(s));
    if (!session.ended) this.live.add(session);
    const ticket = this.take(url);
    if (!ticket) return session.close(4401, 'console ticket missing, used or expired');
    void this.bridge(session, ticket);
  }

  private async bridge(session: ConsoleSession, ticket: Ticket): Promise<void> {
    const { reader, onread } = consoleReader();
    let sock: Socket;
    try {
      const ep = 'endpoint' in ticket ? ticket.endpoint : await this.endpoint(ticket.workloadId, AbortSignal.timeout(10_000));
      sock = ep.kind === 'unix' ? await connectUnix(ep.path, 5_000, { onread }) : await connectTcp(ep.host, ep.port, onread);
    } catch (e) {
      session.close(CLOSE.internal, (e as Error).message.slice(0, 120));
      return;
    }
    session.attach(sock, reader);
  }

  /** The route the headless server mounts: its token check runs first, then the ticket's. */
  wsRoute(): WsRoute {
    return {
      path: PATH,
      accept: (_req, url) => (this.valid(url) ? undefined : 'console ticket missing, used or expired'),
      upgrade: (req, socket, head, url) => this.handle(req, socket, head, url),
    };
  }

  /** The desktop's proxy on 127.0.0.1 and a random port: only console upgrades, each with its ticket. */
  async startStandalone(host = '127.0.0.1', port = 0): Promise<string> {
    if (this.standalone) return this.standalone.base;
    const server = createServer((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const url = new URL(req.url ?? '/', `http://${host}`);
      if (url.pathname !== PATH || !this.valid(url)) {
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.handle(req, socket, head, url);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const base = `ws://${host}:${(server.address() as AddressInfo).port}`;
    this.standalone = { server, base };
    return base;
  }

  dispose(): void {
    for (const s of this.live) s.terminate();
    this.live.clear();
    this.tickets.clear();
    if (this.standalone) {
      this.standalone.server.closeAllConnections();
      this.standalone.server.close();
      this.standalone = undefined;
    }
  }
}

function connectTcp(host: string, port: number, onread: OnRead): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, noDelay: true, onread });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}
