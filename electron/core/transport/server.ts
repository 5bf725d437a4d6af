import { readFile } from 'node:fs/promises';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { createSecureContext } from 'node:tls';
import { NovaError } from '../base/errors.js';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Router } from '../api/router.js';
import type { Disposable } from '../base/lifecycle.js';
import { COOKIE, FailureThrottle, newToken, requestToken, tokenMatches } from './auth.js';
import { SECURITY_HEADERS, serveStatic } from './static.js';
import { MAX_FRAME, serveContract } from './ws-endpoint.js';

export interface HttpRoute {
  path: string;
  /** Return true when handled. The request is already authenticated. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> | boolean;
  /** A credential this route accepts besides the server token (the read-only scrape token of /metrics). */
  authorize?(req: IncomingMessage): boolean;
}

export type WsRoute = {
  path: string;
  /** Extra check beyond the token (a one-time console ticket, say); return an error text to refuse. */
  accept?(req: IncomingMessage, url: URL): string | undefined;
} & (
  | { handle(ws: WebSocket, req: IncomingMessage, url: URL): void }
  /** The route answers the upgrade itself, on the raw socket (the console proxy frames its stream by hand). */
  | { upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void }
);

export interface ServerOptions {
  router: Router;
  host: string;
  port: number;
  staticDir: string;
  token?: string;
  tls?: { certFile: string; keyFile: string };
  routes?: HttpRoute[];
  wsRoutes?: WsRoute[];
  /** Told of every refused request (for the log: address and path, never a token). */
  onDenied?(req: IncomingMessage, url: URL, why: 'denied' | 'throttled'): void;
}

export interface RunningServer extends Disposable {
  url: string;
  /** The URL with the token: what an admin opens. */
  loginUrl: string;
  token: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
export const isLoopback = (host: string) => LOOPBACK.has(host) || host.startsWith('127.');

/**
 * The headless mode: the built renderer and the contract over a WebSocket, for any
 * browser. Every HTTP request and every WebSocket upgrade needs the token; upgrades also
 * need a matching Origin, so another site open in the same browser cannot drive it.
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token ?? newToken();
  const throttle = new FailureThrottle();
  const scheme = opts.tls ? 'https' : 'http';
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME, perMessageDeflate: false });
  const routes = opts.routes ?? [];
  /** Sockets a route upgraded by itself: the server cuts them when it closes, as it does its WebSockets. */
  const raw = new Set<Duplex>();
  const wsRoutes: WsRoute[] = [
    { path: '/ws', handle: (ws) => serveContract(ws, opts.router, 'headless') },
    ...(opts.wsRoutes ?? []),
  ];

  /** 'route': the route's own credential matched, which opens that route and nothing else. */
  const authenticate = (req: IncomingMessage, url: URL, route?: HttpRoute): 'ok' | 'route' | 'denied' | 'throttled' => {
    const addr = req.socket.remoteAddress ?? '?';
    if (throttle.blocked(addr)) return 'throttled';
    if (tokenMatches(requestToken(req, url), token)) {
      throttle.succeed(addr);
      return 'ok';
    }
    if (route?.authorize?.(req) === true) {
      throttle.succeed(addr);
      return 'route';
    }
    throttle.fail(addr);
    return 'denied';
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `${scheme}://${req.headers.host ?? 'localhost'}`);
    const route = routes.find((r) => r.path === url.pathname);
    const auth = authenticate(req, url, route);
    if (auth === 'route') {
      if (!(await route!.handle(req, res, url))) {
        res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain' });
        res.end('not found\n');
      }
      return;
    }
    if (auth !== 'ok') {
      opts.onDenied?.(req, url, auth);
      res.writeHead(auth === 'throttled' ? 429 : 401, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(
        auth === 'throttled'
          ? 'Too many failed attempts from this address; wait a minute.\n'
          : 'NovaCron: this server needs its token. Open the URL `novacron serve` printed.\n',
      );
      return;
    }
    // The token arrived in the URL: keep it in a cookie the page's scripts cannot read, and drop it from the address bar.
    if (url.searchParams.has('token') && req.method === 'GET') {
      url.searchParams.delete('token');
      res.writeHead(302, {
        ...SECURITY_HEADERS,
        'Set-Cookie': `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/${opts.tls ? '; Secure' : ''}`,
        Location: url.pathname + (url.search || ''),
      });
      res.end();
      return;
    }
    for (const r of routes) {
      if (url.pathname === r.path && (await r.handle(req, res, url))) return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (await serveStatic(opts.staticDir, url.pathname, res)) return;
      // A client-side route: the page handles it.
      if (!url.pathname.includes('.') && (await serveStatic(opts.staticDir, '/index.html', res))) return;
    }
    res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain' });
    res.end('not found\n');
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const url = new URL(req.url ?? '/', `${scheme}://${req.headers.host ?? 'localhost'}`);
    const auth = authenticate(req, url);
    if (auth !== 'ok' && auth !== 'route') {
      opts.onDenied?.(req, url, auth);
      return refuse(auth === 'throttled' ? 429 : 401, auth === 'throttled' ? 'Too Many Requests' : 'Unauthorized');
    }
    // Browsers always send Origin on upgrades; it must be this very server.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `${scheme}://${req.headers.host ?? ''}`) return refuse(403, 'Forbidden');
    const route = wsRoutes.find((r) => r.path === url.pathname);
    if (!route) return refuse(404, 'Not Found');
    const why = route.accept?.(req, url);
    if (why) return refuse(403, 'Forbidden');
    if ('upgrade' in route) {
      raw.add(socket);
      socket.once('close', () => raw.delete(socket));
      return route.upgrade(req, socket, head, url);
    }
    wss.handleUpgrade(req, socket, head, (ws) => route.handle(ws, req, url));
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    onRequest(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`internal error: ${(e as Error).message}\n`);
    });
  };
  const server: Server = opts.tls
    ? createHttps(await tlsOptions(opts.tls), handler)
    : createHttp(handler);
  server.on('upgrade', onUpgrade);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `${scheme}://${shownHost}:${port}/`;

  const close = async () => {
    for (const c of wss.clients) c.terminate();
    for (const s of raw) s.destroy();
    wss.close();
    server.closeAllConnections?.();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { url, loginUrl: `${url}?token=${token}`, token, port, server, close, dispose: () => void close() };
}

/** The certificate and key files, read and checked here so a bad one is named, not an internal error. */
async function tlsOptions(tls: { certFile: string; keyFile: string }): Promise<{ cert: Buffer; key: Buffer }> {
  const read = (file: string, flag: string) =>
    readFile(file).catch((e: NodeJS.ErrnoException) => {
      throw new NovaError('INVALID_ARGUMENT', `--${flag}: cannot read '${file}' (${e.code ?? e.message})`, { field: flag });
    });
  const [cert, key] = await Promise.all([read(tls.certFile, 'tls-cert'), read(tls.keyFile, 'tls-key')]);
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new NovaError('INVALID_ARGUMENT', `--tls-cert/--tls-key: not a PEM certificate and its private key (${(e as Error).message})`, { field: 'tls-cert' });
  }
  return { cert, key };
}
