import { readFile, stat } from 'node:fs/promises';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { NovaError, isNodeError } from '../../base/errors.js';
import { FailureThrottle, tokenMatches } from '../../transport/auth.js';
import type { HttpRoute } from '../../transport/server.js';
import { CONTENT_TYPE } from './format.js';
import type { MetricsExporter } from './exporter.js';

/**
 * How `/metrics` is reached. It is never open: a request needs the server's token, or the
 * read-only scrape token (from a file, so it never shows in `ps`), which opens /metrics
 * and nothing else. `--metrics-listen` adds a second address that serves only /metrics,
 * with the same rule.
 */
export interface MetricsEndpointOptions {
  listen?: { host: string; port: number };
  scrapeToken?: string;
  tokenFile?: string;
  /** Said once at start: a token file others can read, say. */
  warnings: string[];
}

const MIN_TOKEN = 16;

const bad = (flag: string, msg: string) => new NovaError('INVALID_ARGUMENT', `--${flag}: ${msg}`, { field: flag });

export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  if (!m) throw bad('metrics-listen', `must be HOST:PORT (e.g. 127.0.0.1:9464 or [::1]:9464), got '${value.slice(0, 100)}'`);
  const port = Number(m[3]);
  if (port > 65535) throw bad('metrics-listen', `port must be 0…65535, got ${port}`);
  return { host: (m[1] ?? m[2])!, port };
}

export async function readScrapeToken(file: string): Promise<{ token: string; warning?: string }> {
  const path = resolve(file);
  let text: string;
  let mode: number;
  try {
    text = await readFile(path, 'utf8');
    mode = (await stat(path)).mode;
  } catch (e) {
    const why = isNodeError(e, 'ENOENT') ? 'no such file' : isNodeError(e, 'EACCES') ? 'permission denied' : isNodeError(e, 'EISDIR') ? 'is a directory' : (e as Error).message;
    throw bad('metrics-token-file', `cannot read ${path}: ${why}`);
  }
  const token = text.trim();
  // Never echo the file's content: it is a secret, even when it is a malformed one.
  if (token.length === 0) throw bad('metrics-token-file', `${path} is empty`);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we reject
  if (/[\s\u0000-\u001f\u007f]/.test(token)) throw bad('metrics-token-file', `${path} must hold one token on one line, without spaces`);
  if (token.length < MIN_TOKEN) throw bad('metrics-token-file', `the token in ${path} is too short: use at least ${MIN_TOKEN} characters (e.g. \`openssl rand -hex 24\`)`);
  const warning = (mode & 0o077) !== 0 ? `${path} can be read by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it` : undefined;
  return { token, ...(warning ? { warning } : {}) };
}

/** Validate serve's metrics flags; every problem is an INVALID_ARGUMENT naming its flag. */
export async function parseMetricsFlags(flags: { listen?: string; tokenFile?: string }): Promise<MetricsEndpointOptions> {
  const out: MetricsEndpointOptions = { warnings: [] };
  if (flags.listen !== undefined) out.listen = parseListen(flags.listen);
  if (flags.tokenFile !== undefined) {
    if (flags.tokenFile === '') throw bad('metrics-token-file', 'must not be empty');
    const { token, warning } = await readScrapeToken(flags.tokenFile);
    out.scrapeToken = token;
    out.tokenFile = resolve(flags.tokenFile);
    if (warning) out.warnings.push(warning);
  }
  return out;
}

const bearer = (req: IncomingMessage): string | undefined => {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
};

async function answer(exporter: MetricsExporter, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
    res.end('method not allowed\n');
    return;
  }
  const text = await exporter.scrape();
  res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(req.method === 'HEAD' ? undefined : text);
}

/** `/metrics` on the main server: its token works, and so does the scrape token (as a Bearer header). */
export function metricsRoute(exporter: MetricsExporter, scrapeToken: string | undefined): HttpRoute {
  return {
    path: '/metrics',
    ...(scrapeToken ? { authorize: (req: IncomingMessage) => tokenMatches(bearer(req), scrapeToken) } : {}),
    handle: async (req, res) => {
      await answer(exporter, req, res);
      return true;
    },
  };
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/** The separate `--metrics-listen` address: /metrics only, Bearer token only (a scraper has no cookie). */
export async function startMetricsListener(opts: {
  host: string;
  port: number;
  exporter: MetricsExporter;
  tokens: string[];
  tls?: { certFile: string; keyFile: string };
  onDenied?: (addr: string, path: string) => void;
}): Promise<MetricsListener> {
  const throttle = new FailureThrottle();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const addr = req.socket.remoteAddress ?? '?';
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const refuse = (status: number, text: string) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'WWW-Authenticate': 'Bearer' });
      res.end(text);
    };
    if (throttle.blocked(addr)) return refuse(429, 'Too many failed attempts from this address; wait a minute.\n');
    const given = bearer(req);
    if (!opts.tokens.some((t) => tokenMatches(given, t))) {
      throttle.fail(addr);
      opts.onDenied?.(addr, path);
      return refuse(401, 'NovaCron metrics: send the scrape token as `Authorization: Bearer TOKEN`.\n');
    }
    throttle.succeed(addr);
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('only /metrics here\n');
      return;
    }
    answer(opts.exporter, req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`internal error: ${(e as Error).message}\n`);
    });
  };
  const server: Server = opts.tls ? createHttps({ cert: await readFile(opts.tls.certFile), key: await readFile(opts.tls.keyFile) }, handler) : createHttp(handler);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = `${opts.host}:${opts.port}`;
      if (e.code === 'EADDRINUSE') reject(new NovaError('CONFLICT', `--metrics-listen: ${where} is already in use`, { field: 'metrics-listen' }));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') reject(bad('metrics-listen', `cannot listen on '${opts.host}'`));
      else if (e.code === 'EACCES') reject(bad('metrics-listen', `not allowed to listen on ${where}`));
      else reject(e);
    });
    server.listen(opts.port, opts.host, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  const shown = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${shown}:${port}/metrics`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}
